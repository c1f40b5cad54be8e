/**
 * sendToOpenAI over the RELAY binding and a relay URL, in workerd. The binding is the app's edge,
 * so it is the one thing replaced here (by a handler that answers as the relay would).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type AppConfig, parseConfig } from "../../../../workers/app/src/config";
import { sendToOpenAI } from "../../../../workers/app/src/egress";
import { EgressFailure } from "../../../../workers/app/src/egress/types";
import type { AppBindings } from "../../../../workers/app/src/env";
import { egressError } from "../../../../workers/app/src/failures/public";
import type { LogFields, Logger } from "../../../../workers/shared/log";

function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (msg: string, fields?: LogFields) => lines.push(`${msg} ${JSON.stringify(fields ?? {})}`);
  const logger = { lines, info: log, warn: log, error: log, with: () => logger, redact: (text: string) => text };
  return logger;
}

/** A RELAY binding answering with `answer(n, request)` for the n-th call. */
function relay(answer: (n: number, request: Request) => Response | Promise<Response>) {
  const calls: Array<{ method: string; body: string }> = [];
  const fetcher = {
    fetch: async (input: RequestInfo, init?: RequestInit) => {
      const request = new Request(input, init);
      calls.push({ method: request.method, body: await request.text() });
      return answer(calls.length, request);
    },
  } as unknown as Fetcher;
  return { fetcher, calls };
}

function setup(fetcher: Fetcher, settings: Partial<AppBindings> = {}) {
  const bindings: AppBindings = { IMAGES: env.IMAGES, RELAY: fetcher, EGRESS_COOLOFF_MS: "0", ...settings };
  const { config, problems } = parseConfig(bindings);
  expect(problems).toEqual([]);
  return { bindings, config: config as AppConfig };
}

const post = (log: Logger, signal = new AbortController().signal) => ({
  method: "POST" as const,
  path: "/v1/images/generations",
  requestId: "req_test",
  signal,
  body: JSON.stringify({ prompt: "a fox" }),
  contentType: "application/json",
  log,
});

const rateLimited = (ms: string) =>
  Response.json(
    { error: { message: "Rate limit reached", type: "requests", param: null, code: "rate_limit_exceeded" } },
    { status: 429, headers: { "retry-after-ms": ms } },
  );

describe("sendToOpenAI over the RELAY binding", () => {
  it("names the route in x-egress-route and streams the body as it comes", async () => {
    let finish = () => {};
    const { fetcher } = relay(
      () =>
        new Response(
          new ReadableStream({
            async start(controller) {
              controller.enqueue(new TextEncoder().encode("event: partial\n\n"));
              await new Promise<void>((resolve) => {
                finish = resolve;
              });
              controller.enqueue(new TextEncoder().encode("event: completed\n\n"));
              controller.close();
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        ),
    );
    const { bindings, config } = setup(fetcher);
    const log = recorder();
    const res = await sendToOpenAI(bindings, config, post(log));
    expect(res.headers.get("x-egress-route")).toBe("relay-binding");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    // The first event arrives while the relay is still holding the rest.
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("event: partial\n\n");
    finish();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("event: completed\n\n");
    // The first route answering at once is the usual case: no egress line (the caller names it).
    expect(log.lines).toEqual([]);
  });

  it("keeps the relay's Content-Length as a size hint, unless the body was encoded", async () => {
    const body = JSON.stringify({ data: [] });
    const plain = setup(
      relay(() => new Response(body, { headers: { "content-length": String(body.length) } })).fetcher,
    );
    const res = await sendToOpenAI(plain.bindings, plain.config, post(recorder()));
    expect(res.headers.get("content-length")).toBe(String(body.length));
    expect(await res.text()).toBe(body);

    const encoded = setup(
      relay(() => new Response(body, { headers: { "content-length": "12", "content-encoding": "gzip" } })).fetcher,
    );
    const decoded = await sendToOpenAI(encoded.bindings, encoded.config, post(recorder()));
    expect(decoded.headers.get("content-length")).toBeNull();
    expect(decoded.headers.get("content-encoding")).toBeNull();
  });

  it("retries a rate limit after retry-after-ms with the same body; 2 calls", async () => {
    const { fetcher, calls } = relay((n) => (n === 1 ? rateLimited("50") : Response.json({ data: [] })));
    const { bindings, config } = setup(fetcher);
    const log = recorder();
    const res = await sendToOpenAI(bindings, config, post(log));
    expect(res.status).toBe(200);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.body).toBe(calls[0]?.body);
    expect(log.lines.join("\n")).toContain("rate limited (429); retrying the same route in 50 ms");
    expect(log.lines.join("\n")).toContain("Egress route relay-binding served the call");
  });

  it("with rateLimitRetries 0 (under the fair queue) gives the 429 back at once, its headers intact; 1 call", async () => {
    const { fetcher, calls } = relay(() => rateLimited("50"));
    const { bindings, config } = setup(fetcher);
    const log = recorder();
    const res = await sendToOpenAI(bindings, config, { ...post(log), rateLimitRetries: 0 });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after-ms")).toBe("50");
    expect(calls).toHaveLength(1);
    expect(log.lines.join("\n")).toContain("not retried: the fair queue waits instead");
  });

  it("gives a rate limit back when the wait would pass the budget; 1 call", async () => {
    const { fetcher, calls } = relay(() => rateLimited("5000"));
    const { bindings, config } = setup(fetcher, { EGRESS_RETRY_BUDGET_MS: "1000" });
    const res = await sendToOpenAI(bindings, config, post(recorder()));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after-ms")).toBe("5000");
    expect(calls).toHaveLength(1);
  });

  it("never sends a streamed request body twice", async () => {
    const { fetcher, calls } = relay(() => rateLimited("10"));
    const { bindings, config } = setup(fetcher);
    const log = recorder();
    const res = await sendToOpenAI(bindings, config, { ...post(log), body: new Blob(["{}"]).stream() });
    expect(res.status).toBe(429);
    expect(calls).toHaveLength(1);
    expect(log.lines.join("\n")).toContain("not retried: the request body was a stream");
  });

  it("a body that stalls past the idle limit fails with upstream_timeout", async () => {
    const { fetcher } = relay(
      () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode('{"data":'));
            },
          }),
        ),
    );
    const { bindings, config } = setup(fetcher, { EGRESS_IDLE_TIMEOUT_MS: "50" });
    const log = recorder();
    const res = await sendToOpenAI(bindings, config, post(log));
    const err = await res.text().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EgressFailure);
    expect(err).toMatchObject({ kind: "body_idle", route: "relay-binding", mayBeBilled: true });
    expect(egressError(err as EgressFailure).code).toBe("upstream_timeout");
    expect(log.lines.join("\n")).toContain("the answer stalled mid-body past the idle limit; not retried");
  });

  it("a body that breaks fails with upstream_error", async () => {
    const { fetcher } = relay(
      () =>
        new Response(
          new ReadableStream({
            pull(controller) {
              controller.error(new Error("reset"));
            },
          }),
        ),
    );
    const { bindings, config } = setup(fetcher);
    const res = await sendToOpenAI(bindings, config, post(recorder()));
    const err = await res.arrayBuffer().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "body_broken", mayBeBilled: true });
    expect(egressError(err as EgressFailure).code).toBe("upstream_error");
  });

  it("slow headers: upstream_timeout after EGRESS_HEADERS_TIMEOUT_MS, 1 call", async () => {
    const { fetcher, calls } = relay(() => new Promise<Response>(() => {}));
    const { bindings, config } = setup(fetcher, { EGRESS_HEADERS_TIMEOUT_MS: "50" });
    const err = await sendToOpenAI(bindings, config, post(recorder())).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "headers_timeout", mayBeBilled: true });
    expect(egressError(err as EgressFailure).code).toBe("upstream_timeout");
    expect(calls).toHaveLength(1);
  });

  it("the caller's abort wins, with its own reason, during a rate-limit wait", async () => {
    const { fetcher } = relay(() => rateLimited("10000"));
    const { bindings, config } = setup(fetcher);
    const controller = new AbortController();
    const pending = sendToOpenAI(bindings, config, post(recorder(), controller.signal));
    setTimeout(() => controller.abort(new Error("client gone")), 50);
    await expect(pending).rejects.toThrow("client gone");
  });
});
