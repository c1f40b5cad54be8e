import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { heldRequest } from "../helpers/raw-http.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * Oversized and half-sent bodies, sent over raw sockets straight to workerd (no wrangler dev, no
 * Miniflare entry worker in front): what the workers answer before the body is sent, and how
 * long a stalled upload can hold a connection.
 */
let stack: Stack;
/** Miniflare's own front door (its entry worker), which `wrangler dev` also puts in front. */
let entryUrl: string;
beforeAll(async () => {
  stack = await startStack({ relayVars: { RELAY_MAX_BODY_BYTES: String(1024 * 1024) } });
  entryUrl = (await stack.mf.ready).href;
});
afterAll(() => stack?.stop());
beforeEach(() => stack.standIn.reset());

const head = (target: string, length: number) =>
  `POST ${target} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
const APP = "/api/generate/image";
const RELAY = "/v1/images/generations";

describe("a declared length over the limit", () => {
  it.each([
    ["app (64 KB)", () => stack.appUrl, APP],
    ["relay (RELAY_MAX_BODY_BYTES)", () => stack.relayUrl, RELAY],
    ["app behind Miniflare's entry worker", () => entryUrl, APP],
  ])(
    "%s: 413 from the headers alone, before a byte of the body, then the connection closes",
    async (_name, url, target) => {
      const res = await heldRequest(url(), head(target, 4_000_000), 5_000);
      expect(res.status, res.head).toBe(413);
      expect(res.body).toContain("payload_too_large");
      expect(res.answeredMs).not.toBeNull();
      expect(res.answeredMs).toBeLessThan(1_000);
      expect(res.head).toMatch(/^connection: close$/im);
      expect(res.closedMs).not.toBeNull();
      expect(res.closedMs).toBeLessThan(1_000);
      expect(stack.standIn.requests).toHaveLength(0);
    },
  );
});

describe("a half-sent body", () => {
  it("the app answers 408 request_timeout after 10 s and the connection closes", async () => {
    const res = await heldRequest(stack.appUrl, `${head(APP, 1000)}{"prompt":`, 15_000);
    expect(res.status, res.head).toBe(408);
    expect(res.body).toContain("request_timeout");
    expect(res.answeredMs).toBeGreaterThanOrEqual(9_500);
    expect(res.answeredMs).toBeLessThan(12_000);
    expect(res.closedMs).not.toBeNull();
    expect(stack.standIn.requests).toHaveLength(0);
  }, 20_000);

  it("the relay answers 408 request_timeout once UPSTREAM_TIMEOUT_MS has passed, and the connection closes", async () => {
    const quick = await startStack({ relayVars: { UPSTREAM_TIMEOUT_MS: "2000" } });
    try {
      const res = await heldRequest(quick.relayUrl, `${head(RELAY, 1000)}{"model":`, 8_000);
      expect(res.status, res.head).toBe(408);
      expect(res.body).toContain("request_timeout");
      expect(res.answeredMs).toBeGreaterThanOrEqual(1_900);
      expect(res.answeredMs).toBeLessThan(4_000);
      expect(res.closedMs).not.toBeNull();
      expect(quick.standIn.requests).toHaveLength(0);
    } finally {
      await quick.stop();
    }
  });

  it("a body that arrives slowly but in time is served", async () => {
    const body = JSON.stringify({ prompt: "a cat" });
    const { hostname, port } = new URL(stack.appUrl);
    const { connect } = await import("node:net");
    const text = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connect(Number(port), hostname, () => {
        socket.write(head(APP, Buffer.byteLength(body)).replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
        socket.write(body.slice(0, 5));
        setTimeout(() => socket.write(body.slice(5)), 1_500);
      });
      socket.on("data", (c) => chunks.push(c));
      socket.on("end", () => resolve(Buffer.concat(chunks).toString("latin1")));
      socket.on("error", reject);
    });
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(stack.standIn.apiCalls).toHaveLength(1);
  });
});
