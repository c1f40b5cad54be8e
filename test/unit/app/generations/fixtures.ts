import type { GenerationRecord } from "../../../../workers/app/src/generations/types";

/** A queued record as the object would write it at create(). */
export function queuedRecord(overrides: Partial<GenerationRecord> = {}): GenerationRecord {
  return {
    id: `gen_${"0".repeat(31)}1`,
    status: "queued",
    phase: "queued",
    created: 1_790_000_000,
    model: "gpt-image-1",
    spec: {
      request: { prompt: "a red fox", n: 1 },
      client: "ip:203.0.113.7",
      request_id: "req_abc",
      origin: "https://images.example",
      upstream: { stream: true, partial_images: 2 },
      idempotency: { key: "click-1", body_hash: "h" },
      budget: { hold_id: "hold_1", estimate_usd: 0.05 },
    },
    grants: 0,
    enqueued_at: 1_790_000_000_000,
    ...overrides,
  };
}

export const IMAGE = { url: "https://images.example/api/images/0123456789abcdef0123456789abcdef.png" };
export const USAGE = { input_tokens: 50, output_tokens: 1056, total_tokens: 1106 };
