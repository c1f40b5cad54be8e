/** Small helpers shared by the integration tests. */
import { expect } from "vitest";
import type { Stack } from "./stack.ts";

export const GENERATE = "/api/generate/image";

export function generate(stack: Stack, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return stack.app(GENERATE, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Generates with `prompt` and expects a 200 (the body is the failure message), read to the end. */
export async function expectOk(stack: Stack, prompt = "a fox"): Promise<void> {
  const res = await generate(stack, { prompt });
  expect(res.status, await res.clone().text()).toBe(200);
  await res.arrayBuffer();
}

export interface ErrorEnvelope {
  error: { code: string; message: string; type: string; param?: string; request_id: string };
}

/** Asserts the app's error envelope with the given status and code, and returns it. */
export async function expectError(res: Response, status: number, code: string): Promise<ErrorEnvelope> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorEnvelope;
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(typeof body.error.type).toBe("string");
  expect(body.error.request_id).toBe(res.headers.get("x-request-id"));
  return body;
}

/** GETs an image URL from the app's answer (through the app, as the end user's browser would). */
export async function fetchBytes(stack: Stack, url: string): Promise<{ res: Response; bytes: Buffer }> {
  const { pathname } = new URL(url);
  const res = await stack.app(pathname);
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}
