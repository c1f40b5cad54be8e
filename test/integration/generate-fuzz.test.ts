import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());

const FIELDS = [
  "prompt",
  "model",
  "size",
  "quality",
  "n",
  "output_format",
  "output_compression",
  "background",
  "moderation",
  "user",
  "stream",
  "partial_images",
];

/** Objects that look almost right: known fields with values of any type, plus strays. */
const nearMiss = fc.dictionary(
  fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 12 })),
  fc.oneof(fc.jsonValue(), fc.string({ maxLength: 40 }), fc.integer(), fc.double(), fc.constant(null)),
  { maxKeys: 6 },
);

const body = fc.oneof(
  nearMiss.map((o) => JSON.stringify(o)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString("latin1")),
  fc.constant(""),
);

const headers = fc.record(
  {
    "content-type": fc.constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/jsonx",
      "",
    ),
    "x-request-id": fc.string({ maxLength: 300 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    "idempotency-key": fc.string({ maxLength: 300 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    accept: fc.constantFrom("application/json", "text/event-stream", "*/*"),
  },
  { requiredKeys: ["content-type"] },
);

describe("POST /api/generate/image under random and malformed input", () => {
  it("never answers 5xx, always the envelope, and only valid requests reach the upstream", async () => {
    let answered200 = 0;
    stack.standIn.reset();
    await fc.assert(
      fc.asyncProperty(body, headers, async (text, hdrs) => {
        const res = await stack.app("/api/generate/image", { method: "POST", headers: hdrs, body: text });
        const payload = await res.text();
        expect(res.status, payload).toBeLessThan(500);
        if (res.status === 200) {
          answered200++;
          return;
        }
        const parsed = JSON.parse(payload);
        expect(typeof parsed.error.code).toBe("string");
        expect(typeof parsed.error.message).toBe("string");
        expect(parsed.error.request_id).toBe(res.headers.get("x-request-id"));
      }),
      { numRuns: 2000, seed: Number(process.env.FUZZ_SEED) || undefined },
    );
    // Every upstream call belongs to a request the app accepted; invalid input made none.
    expect(stack.standIn.apiCalls).toHaveLength(answered200);
  }, 120_000);
});
