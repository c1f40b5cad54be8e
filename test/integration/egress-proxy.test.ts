/**
 * OPENAI_PROXY=http://user:pass@host:port: the app calls OpenAI itself through a real forward
 * proxy (tinyproxy with Basic auth) over a CONNECT tunnel. Here the tunnel leads to the stand-in
 * over plain HTTP (OPENAI_BASE_URL=http://...); egress-tls.test.ts covers TLS inside the tunnel.
 */

import type { AddressInfo } from "node:net";
import { createServer, type Socket } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { OpenAIStandIn } from "../../tools/openai-stand-in/server.ts";
import { expectError, expectOk, generate } from "../helpers/api.ts";
import { sseReader } from "../helpers/sse.ts";
import { logsOf, type Stack, startStack, TEST_KEY } from "../helpers/stack.ts";
import { freePort, startTinyproxy, type Tinyproxy } from "../helpers/tinyproxy.ts";

const USER = "egress-user";
const portOf = (url: string) => Number(new URL(url).port);
const PASSWORD = "pr0xy-Pa55word-s3cret";

describe("egress through an HTTP forward proxy (tinyproxy, Basic auth)", () => {
  let upstream: OpenAIStandIn;
  let proxy: Tinyproxy;
  let closedPort: number;
  const stacks: Stack[] = [];

  const stackWith = async (appVars: Record<string, string>) => {
    const stack = await startStack({
      appVars: { OPENAI_BASE_URL: upstream.url, OPENAI_API_KEY: TEST_KEY, ...appVars },
    });
    stacks.push(stack);
    return stack;
  };

  beforeAll(async () => {
    upstream = await new OpenAIStandIn({ apiKey: TEST_KEY }).start();
    closedPort = await freePort();
    proxy = await startTinyproxy({ user: USER, password: PASSWORD, connectPorts: [portOf(upstream.url)] });
  });
  afterAll(async () => {
    for (const s of stacks) await s.stop();
    await proxy?.stop();
    await upstream?.stop();
  });
  beforeEach(() => upstream.reset());

  it("generates through the tunnel: one upstream call, the route logged, the relay unused", async () => {
    const stack = await stackWith({ OPENAI_PROXY: proxy.url() });
    const res = await generate(stack, { prompt: "a fox through a proxy" });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(JSON.parse(text).images).toHaveLength(1);
    expect(upstream.apiCalls).toHaveLength(1);
    expect(stack.standIn.apiCalls).toHaveLength(0);
    const call = upstream.apiCalls[0];
    expect(call?.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
    // Nothing about the proxy, the relay or the end user reaches the upstream.
    expect(call?.headers["proxy-authorization"]).toBeUndefined();
    expect(call?.headers["x-relay-token"]).toBeUndefined();
    expect(call?.headers["x-forwarded-for"]).toBeUndefined();
    expect(proxy.output()).toContain(`CONNECT 127.0.0.1:${portOf(upstream.url)}`);
    const route = `proxy:127.0.0.1:${proxy.port}`;
    const completed = stack.logs
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === "Image generation completed successfully");
    expect(completed?.route).toBe(route);
    expect(stack.logs.join("\n")).not.toContain(PASSWORD);
  });

  it("streams SSE through the tunnel as it arrives (chunked), not at the end", async () => {
    const stack = await stackWith({ OPENAI_PROXY: proxy.url(), ALLOWED_MODELS: "gpt-image-1,gpt-image-1-mini" });
    const res = await generate(stack, { prompt: "a fox [[hold]] [[gap=5]]", model: "gpt-image-1", stream: true });
    const reader = sseReader(res);
    expect((await reader.next())?.event).toBe("started");
    expect((await reader.next())?.event).toBe("running");
    // The stand-in holds the second partial and the completion until release().
    expect((await reader.next())?.event).toBe("partial");
    upstream.release();
    expect((await reader.rest()).map((e) => e.event)).toEqual(["partial", "completed"]);
    expect(upstream.apiCalls).toHaveLength(1);
  });

  it("wrong credentials: 503 egress_unreachable, the proxy named only in the log, never the password, nothing sent", async () => {
    const wrong = "wr0ng-Pa55word-s3cret";
    const stack = await stackWith({ OPENAI_PROXY: proxy.url({ user: USER, password: wrong }) });
    const res = await generate(stack, { prompt: "a fox" });
    const err = await expectError(res, 503, "egress_unreachable");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    // The answer says what every unusable route says; the proxy and its verdict are for operators.
    expect(err.error.message).toBe("The image provider could not be reached. Try again later.");
    expect(JSON.stringify(err)).not.toContain(String(proxy.port));
    const notSent = stack.logs
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === "No egress route could be used; the call was not sent");
    expect(notSent?.detail).toContain(`proxy 127.0.0.1:${proxy.port}`);
    // tinyproxy answers wrong credentials with 401 (407 when none are sent).
    expect(notSent?.detail).toMatch(/refused the configured credentials \((401|407)\)/);
    const everything = JSON.stringify(err) + stack.logs.join("\n");
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(Buffer.from(`${USER}:${wrong}`).toString("base64"));
    expect(upstream.apiCalls).toHaveLength(0);
  });

  it("wrong credentials, streamed: the stream ends in egress_unreachable, the proxy never named", async () => {
    const stack = await stackWith({ OPENAI_PROXY: proxy.url({ user: USER, password: "wr0ng" }) });
    const res = await generate(stack, { prompt: "a fox", stream: true });
    const text = await res.text();
    expect(text).toContain('"code":"egress_unreachable"');
    expect(text).not.toContain(String(proxy.port));
    expect(text).not.toMatch(/credentials|proxy/);
    expect(upstream.apiCalls).toHaveLength(0);
  });

  it("/api/health through the proxy route: the models probe via the tunnel, verdict ok", async () => {
    const stack = await stackWith({ OPENAI_PROXY: proxy.url() });
    const res = await stack.app("/api/health");
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.egress).toMatchObject({
      route: `proxy 127.0.0.1:${proxy.port}`,
      reachable: true,
      verdict: "ok",
      key_accepted: true,
      models_status: 200,
    });
    expect(upstream.requests.map((r) => r.path)).toEqual(["/v1/models"]);
    expect(JSON.stringify(body)).not.toContain(PASSWORD);
  });

  it("/api/health through a proxy whose egress OpenAI refuses: region_blocked, 503", async () => {
    const refused = await new OpenAIStandIn({ apiKey: TEST_KEY, country: "RU" }).start();
    const local = await startTinyproxy({ user: USER, password: PASSWORD, connectPorts: [portOf(refused.url)] });
    try {
      const stack = await stackWith({ OPENAI_PROXY: local.url(), OPENAI_BASE_URL: refused.url });
      const res = await stack.app("/api/health");
      const body = await res.json();
      expect(res.status, JSON.stringify(body)).toBe(503);
      expect(body.egress.verdict).toBe("region_blocked");
      // What to do for THIS route: the proxy's exit, not the relay's placement.
      expect(body.egress.advice).toContain(`the forward proxy 127.0.0.1:${local.port} exits in a region OpenAI`);
      expect(body.egress.advice).toContain("choose a proxy exit in a region OpenAI serves");
      expect(body.egress.advice).not.toContain("placement");

      const lines = await logsOf(stack, async () => {
        const err = await expectError(await generate(stack, { prompt: "a fox" }), 503, "region_blocked");
        expect(err.error.message).toContain("the image provider refused the network region of the server's proxy");
        expect(err.error.message).toContain("The operator must use a proxy exit in a supported region.");
      });
      expect(lines).toContain(`the forward proxy 127.0.0.1:${local.port} exits in a region OpenAI does not serve`);
      expect(lines).not.toContain("placement");
    } finally {
      await local.stop();
      await refused.stop();
    }
  });

  it("/api/health through a proxy that refuses the credentials: the proxy's own failure, in words", async () => {
    const wrong = "wr0ng-Pa55word-s3cret";
    const stack = await stackWith({ OPENAI_PROXY: proxy.url({ user: USER, password: wrong }) });
    const res = await stack.app("/api/health");
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(503);
    expect(body.status).toBe("egress_unreachable");
    expect(body.egress).toMatchObject({ route_kind: "proxy", reachable: false, failure: "proxy_auth" });
    expect(body.egress.error).toMatch(/^the proxy 127\.0\.0\.1:\d+ refused the configured credentials \((401|407)\)$/);
    expect(JSON.stringify(body) + stack.logs.join("\n")).not.toContain(wrong);
    expect(upstream.requests).toHaveLength(0);
  });

  it("/api/health through a proxy that refuses the tunnel: CONNECT refused, in words", async () => {
    const stack = await stackWith({ OPENAI_PROXY: proxy.url(), OPENAI_BASE_URL: `http://127.0.0.1:${closedPort}` });
    const body = await (await stack.app("/api/health")).json();
    expect(body.status).toBe("egress_unreachable");
    expect(body.egress.failure).toBe("tunnel_refused");
    expect(body.egress.error).toMatch(/^the proxy 127\.0\.0\.1:\d+ refused the tunnel to 127\.0\.0\.1:\d+ \(403\)$/);
  });

  it("/api/health through a proxy that never answers: timed out, in words", async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const stack = await stackWith({ OPENAI_PROXY: `http://127.0.0.1:${port}`, EGRESS_CONNECT_TIMEOUT_MS: "300" });
      const body = await (await stack.app("/api/health")).json();
      expect(body.status).toBe("egress_unreachable");
      expect(body.egress).toMatchObject({
        failure: "connect_timeout",
        error: `the proxy 127.0.0.1:${port} did not open a tunnel within 300 ms`,
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("a failing proxy ahead of the relay: health 200 with a warning naming it, and its checks never cool it off", async () => {
    const stack = await stackWith({ OPENAI_PROXY: `${proxy.url({ user: USER, password: "wrong" })}, relay:` });
    const res = await stack.app("/api/health");
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.routes.map((r: { route_name: string; verdict: string }) => [r.route_name, r.verdict])).toEqual([
      [`proxy:127.0.0.1:${proxy.port}`, "unreachable"],
      ["relay-binding", "ok"],
    ]);
    expect(body.warnings[0]).toMatch(
      /^egress route proxy 127\.0\.0\.1:\d+ is unreachable \(the proxy .* refused the configured credentials/,
    );
    // Three failures put a route in cool-off. Had the check counted, the third call would skip
    // the proxy; each of the three still tries it first.
    const lines = await logsOf(stack, async () => {
      for (let i = 0; i < 3; i++) await expectOk(stack);
    });
    expect(lines.match(/Egress route proxy:127\.0\.0\.1:\d+ could not be used/g)).toHaveLength(3);
    expect(lines).not.toContain("skipped: cooling off");
  });

  it("a proxy that refuses the tunnel (CONNECT to a port it does not allow) fails over to the relay", async () => {
    const stack = await stackWith({
      OPENAI_PROXY: `${proxy.url()},relay:`,
      OPENAI_BASE_URL: `http://127.0.0.1:${closedPort}`,
    });
    await expectOk(stack);
    expect(stack.standIn.apiCalls).toHaveLength(1);
    const lines = stack.logs.join("\n");
    expect(lines).toMatch(
      /could not be used: the proxy 127\.0\.0\.1:\d+ refused the tunnel to 127\.0\.0\.1:\d+ \(403\); failing over to relay-binding/,
    );
    expect(lines).toContain("Egress route relay-binding served the call");
  });
});
