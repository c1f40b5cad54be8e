/**
 * Faults on the way to OpenAI, through a real forward proxy (tinyproxy): for each, the app's
 * answer, how many calls reached the upstream (never two for one billed generation) and the log
 * line that explains it. Upstreams: the OpenAI stand-in (its prompt directives) and, for faults
 * it can't stage, a raw TCP upstream (helpers/fault-upstream.ts).
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { OpenAIStandIn } from "../../tools/openai-stand-in/server.ts";
import { expectError, expectOk, generate } from "../helpers/api.ts";
import { FaultUpstream } from "../helpers/fault-upstream.ts";
import { logsOf, type Stack, startStack, TEST_KEY, withStack } from "../helpers/stack.ts";
import { freePort, startTinyproxy, type Tinyproxy } from "../helpers/tinyproxy.ts";

const portOf = (url: string) => Number(new URL(url).port);

/** Limits short enough for tests; cool-off off here (egress-routes.test.ts covers it). */
const LIMITS = {
  EGRESS_CONNECT_TIMEOUT_MS: "1500",
  EGRESS_HEADERS_TIMEOUT_MS: "1000",
  EGRESS_IDLE_TIMEOUT_MS: "1000",
  EGRESS_RETRY_BUDGET_MS: "3000",
  EGRESS_COOLOFF_MS: "0",
  UPSTREAM_TIMEOUT_MS: "20000",
  // Scripted 429s here are one call's, not a per-minute limit: what the fair queue learns from
  // them must not hold the next tests for a minute.
  QUEUE_WINDOW_S: "1",
};

let standIn: OpenAIStandIn;
let refusedRegion: OpenAIStandIn;
let fault: FaultUpstream;
let proxy: Tinyproxy;
let closedPort: number;
let silent: Server;
const silentSockets = new Set<Socket>();
let viaStandIn: Stack;
let viaFault: Stack;

beforeAll(async () => {
  standIn = await new OpenAIStandIn({ apiKey: TEST_KEY }).start();
  refusedRegion = await new OpenAIStandIn({ apiKey: TEST_KEY, country: "RU" }).start();
  fault = await new FaultUpstream().start();
  closedPort = await freePort();
  // Accepts TCP and never says a word: a proxy that hangs.
  silent = createServer((socket) => {
    silentSockets.add(socket);
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  proxy = await startTinyproxy({
    user: "fault-user",
    password: "fault-Pa55",
    connectPorts: [portOf(standIn.url), portOf(refusedRegion.url), fault.port, closedPort],
  });
  const vars = (baseUrl: string) => ({
    ...LIMITS,
    OPENAI_PROXY: proxy.url(),
    OPENAI_BASE_URL: baseUrl,
    OPENAI_API_KEY: TEST_KEY,
  });
  viaStandIn = await startStack({ appVars: vars(standIn.url) });
  viaFault = await startStack({ appVars: vars(fault.url) });
});
afterAll(async () => {
  await viaStandIn?.stop();
  await viaFault?.stop();
  await proxy?.stop();
  for (const socket of silentSockets) socket.destroy();
  await new Promise((r) => silent?.close(r));
  await fault?.stop();
  await refusedRegion?.stop();
  await standIn?.stop();
});
beforeEach(() => {
  standIn.reset();
  refusedRegion.reset();
  fault.reset();
});

const ROUTE = () => `proxy:127.0.0.1:${proxy.port}`;

describe("faults before the call is sent: safe to try the next route", () => {
  it("connection refused by the proxy, only route: 503 egress_unreachable, the proxy only in the log, 0 calls", async () => {
    await withStack(
      {
        appVars: { ...LIMITS, OPENAI_PROXY: `http://127.0.0.1:${closedPort}`, OPENAI_API_KEY: TEST_KEY },
      },
      async (stack) => {
        const lines = await logsOf(stack, async () => {
          const err = await expectError(await generate(stack, { prompt: "a fox" }), 503, "egress_unreachable");
          expect(err.error.message).toBe("The image provider could not be reached. Try again later.");
        });
        expect(lines).toContain(
          `Egress route proxy:127.0.0.1:${closedPort} could not be used: could not connect to the proxy 127.0.0.1:${closedPort}; no route left`,
        );
        expect(stack.standIn.apiCalls).toHaveLength(0);
      },
    );
  });

  it("connection refused by the upstream behind the proxy, then the relay: 200, 1 call", async () => {
    await withStack(
      {
        appVars: {
          ...LIMITS,
          OPENAI_PROXY: `${proxy.url()},relay:`,
          OPENAI_BASE_URL: `http://127.0.0.1:${closedPort}`,
          OPENAI_API_KEY: TEST_KEY,
        },
      },
      async (stack) => {
        const lines = await logsOf(stack, () => expectOk(stack));
        expect(stack.standIn.apiCalls).toHaveLength(1);
        expect(lines).toMatch(
          /the proxy 127\.0\.0\.1:\d+ could not reach 127\.0\.0\.1:\d+ \(its DNS or network; it answered CONNECT with 5\d\d\); failing over to relay-binding/,
        );
        expect(lines).toContain("Egress route relay-binding served the call");
      },
    );
  });

  it("a proxy that never answers CONNECT: 503 egress_unreachable after the connect limit, 0 calls", async () => {
    const port = (silent.address() as { port: number }).port;
    await withStack(
      {
        appVars: { ...LIMITS, OPENAI_PROXY: `http://127.0.0.1:${port}`, OPENAI_API_KEY: TEST_KEY },
      },
      async (stack) => {
        const started = Date.now();
        const lines = await logsOf(stack, async () => {
          await expectError(await generate(stack, { prompt: "a fox" }), 503, "egress_unreachable");
        });
        expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
        expect(lines).toContain(`the proxy 127.0.0.1:${port} did not open a tunnel within 1500 ms; no route left`);
      },
    );
  });

  it("region 403 on the first route only: the next route serves it; 2 calls, 1 billed", async () => {
    await withStack(
      {
        appVars: {
          ...LIMITS,
          OPENAI_PROXY: `${proxy.url()},relay:`,
          OPENAI_BASE_URL: refusedRegion.url,
          OPENAI_API_KEY: TEST_KEY,
        },
      },
      async (stack) => {
        const lines = await logsOf(stack, () => expectOk(stack));
        // The refused call did no work (OpenAI refuses before generating); the relay's is the one.
        expect(refusedRegion.apiCalls).toHaveLength(1);
        expect(stack.standIn.apiCalls).toHaveLength(1);
        expect(lines).toContain(
          `Egress route ${ROUTE()}: OpenAI refused the region this route leaves from (unsupported_country_region_territory): the forward proxy ${ROUTE().slice("proxy:".length)} exits in a region OpenAI does not serve; choose a proxy exit in a region OpenAI serves (or put a route that does first in OPENAI_PROXY); failing over to relay-binding`,
        );
        expect(lines).toContain("Egress route relay-binding served the call");
      },
    );
  });
});

describe("faults after the call is sent: never sent again", () => {
  it("reset before the headers: 502 upstream_error, 1 call", async () => {
    const lines = await logsOf(viaStandIn, async () => {
      await expectError(await generate(viaStandIn, { prompt: "a fox [[reset]]" }), 502, "upstream_error");
    });
    expect(standIn.apiCalls).toHaveLength(1);
    expect(lines).toContain(
      `Egress route ${ROUTE()}: the connection broke before the answer's headers; not retried: the call may have been billed`,
    );
  });

  it("reset mid-body: 502 upstream_error, 1 call", async () => {
    fault.next({ kind: "reset_mid_body" });
    const lines = await logsOf(viaFault, async () => {
      await expectError(await generate(viaFault, { prompt: "a fox" }), 502, "upstream_error");
    });
    expect(fault.calls).toHaveLength(1);
    expect(lines).toContain(`Egress route ${ROUTE()}: the answer broke off mid-body; not retried`);
  });

  it("truncated body (shorter than its Content-Length, then closed): 502 upstream_error, 1 call", async () => {
    fault.next({ kind: "truncated" });
    const lines = await logsOf(viaFault, async () => {
      await expectError(await generate(viaFault, { prompt: "a fox" }), 502, "upstream_error");
    });
    expect(fault.calls).toHaveLength(1);
    expect(lines).toContain(`Egress route ${ROUTE()}: the answer broke off mid-body; not retried`);
    expect(lines).toMatch(/Http1Error: the body ended after \d+ of \d+ bytes/);
  });

  it("slow headers (past EGRESS_HEADERS_TIMEOUT_MS): 504 upstream_timeout, 1 call", async () => {
    const lines = await logsOf(viaStandIn, async () => {
      await expectError(await generate(viaStandIn, { prompt: "a fox [[slow=3000]]" }), 504, "upstream_timeout");
    });
    expect(standIn.apiCalls).toHaveLength(1);
    expect(lines).toContain(`Egress route ${ROUTE()}: no answer headers in time; not retried`);
  });

  it("slow body (silent past EGRESS_IDLE_TIMEOUT_MS): 504 upstream_timeout, 1 call", async () => {
    const lines = await logsOf(viaStandIn, async () => {
      const res = await generate(viaStandIn, { prompt: "a fox [[hold]]" });
      standIn.release();
      await expectError(res, 504, "upstream_timeout");
    });
    expect(standIn.apiCalls).toHaveLength(1);
    expect(lines).toContain(`Egress route ${ROUTE()}: the answer stalled mid-body past the idle limit; not retried`);
  });

  it("a slow body within the idle limit is fine: 200, 1 call", async () => {
    fault.next({ kind: "slow_body", ms: 600 });
    await expectOk(viaFault);
    expect(fault.calls).toHaveLength(1);
  });

  it("a burst of 5xx: each answer is 502 upstream_error after exactly 1 call; the route stays in use", async () => {
    const lines = await logsOf(viaStandIn, async () => {
      for (let i = 0; i < 4; i++) {
        await expectError(await generate(viaStandIn, { prompt: `a fox ${i} [[server_error]]` }), 502, "upstream_error");
      }
      const res = await generate(viaStandIn, { prompt: "a fox after the burst" });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    });
    expect(standIn.apiCalls).toHaveLength(5);
    // Every line of the five calls names the one route, and none says it was skipped or left.
    const named = lines.split("\n").filter((l) => l.includes('"worker":"app"') && l.includes('"route"'));
    expect(named.length).toBeGreaterThanOrEqual(5);
    expect(named.every((l) => JSON.parse(l).route === ROUTE())).toBe(true);
    expect(lines).toContain("Image generation completed successfully");
    expect(lines).not.toMatch(/retrying|failing over|skipping it|cooling off/);
  });
});

describe("rate limits: refused before any work, so waited out in the fair queue", () => {
  it("429 with retry-after-ms, then success: 200 after 2 calls, the wait honoured", async () => {
    fault.next({
      kind: "status",
      status: 429,
      headers: { "retry-after-ms": "400" },
      body: { error: { message: "Rate limit reached", type: "requests", param: null, code: "rate_limit_exceeded" } },
    });
    const started = Date.now();
    const lines = await logsOf(viaFault, () => expectOk(viaFault));
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(fault.calls).toHaveLength(2);
    // Not retried in place: the generation went back to the queue, which waited the 400 ms.
    expect(lines).toContain(`Egress route ${ROUTE()}: rate limited (429); not retried: the fair queue waits instead`);
    expect(lines).toContain("Rate limited by OpenAI: back in the queue");
  });

  it("429 on every turn: 429 upstream_rate_limited with Retry-After, after 3 calls", async () => {
    // The stand-in asks for 2.5 s each time: the queue gives the generation 3 turns, then OpenAI's answer.
    const lines = await logsOf(viaStandIn, async () => {
      const res = await generate(viaStandIn, { prompt: "a fox [[rate_limit]]" });
      expect(res.headers.get("retry-after")).toBe("3");
      await expectError(res, 429, "upstream_rate_limited");
    });
    expect(standIn.apiCalls).toHaveLength(3);
    expect(lines).toContain("Rate limited by OpenAI on every turn: not queued again");
  });

  it("429 insufficient_quota is never retried: 502 upstream_error, 1 call", async () => {
    const lines = await logsOf(viaStandIn, async () => {
      await expectError(await generate(viaStandIn, { prompt: "a fox [[quota]]" }), 502, "upstream_error");
    });
    expect(standIn.apiCalls).toHaveLength(1);
    expect(lines).not.toContain("retrying");
  });
});

describe("answer framings through the tunnel", () => {
  it.each([
    ["chunked, 7-byte chunks", { kind: "ok", framing: "chunked", chunk: 7 } as const],
    ["close-delimited", { kind: "ok", framing: "close" } as const],
  ])("%s: 200", async (_label, answer) => {
    fault.next(answer);
    await expectOk(viaFault);
    expect(fault.calls).toHaveLength(1);
  });
});
