/**
 * TLS inside the CONNECT tunnel, as with api.openai.com: tinyproxy tunnels to a TLS front for
 * "localhost" (certificate from a throwaway CA that workerd is told to trust), which passes the
 * plaintext to the stand-in. workerd verifies the chain and the name given to startTls.
 *
 * The stack is imported only after trustTestCa(): Miniflare reads NODE_EXTRA_CA_CERTS when its
 * module loads (see helpers/test-tls.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenAIStandIn } from "../../tools/openai-stand-in/server.ts";
import { expectError, generate } from "../helpers/api.ts";
import type { Stack } from "../helpers/stack.ts";
import { startTlsFront, type TestCerts, type TlsFront, trustTestCa } from "../helpers/test-tls.ts";
import { startTinyproxy, type Tinyproxy } from "../helpers/tinyproxy.ts";

const portOf = (url: string) => Number(new URL(url).port);

describe("TLS through the tunnel", () => {
  let certs: TestCerts;
  let upstream: OpenAIStandIn;
  let front: TlsFront;
  let rogue: TlsFront;
  let proxy: Tinyproxy;
  let key: string;
  const stacks: Stack[] = [];

  const stackFor = async (baseUrl: string) => {
    const { startStack } = await import("../helpers/stack.ts");
    const stack = await startStack({
      appVars: { OPENAI_PROXY: proxy.url(), OPENAI_BASE_URL: baseUrl, OPENAI_API_KEY: key },
    });
    stacks.push(stack);
    return stack;
  };

  beforeAll(async () => {
    certs = trustTestCa();
    ({ TEST_KEY: key } = await import("../helpers/stack.ts"));
    upstream = await new OpenAIStandIn({ apiKey: key }).start();
    front = await startTlsFront(certs, portOf(upstream.url));
    rogue = await startTlsFront(certs.rogue, portOf(upstream.url));
    proxy = await startTinyproxy({ user: "tls-user", password: "tls-Pa55", connectPorts: [front.port, rogue.port] });
  });
  afterAll(async () => {
    for (const s of stacks) await s.stop();
    await proxy?.stop();
    await front?.stop();
    await rogue?.stop();
    await upstream?.stop();
  });

  it("a generation over TLS to localhost through tinyproxy: the proxy sees only CONNECT", async () => {
    const stack = await stackFor(`https://localhost:${front.port}`);
    const res = await generate(stack, { prompt: "a fox over TLS" });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(JSON.parse(text).images).toHaveLength(1);
    expect(upstream.apiCalls).toHaveLength(1);
    expect(upstream.apiCalls[0]?.headers.host).toBe(`localhost:${front.port}`);
    expect(front.handshakes).toBeGreaterThanOrEqual(1);
    expect(proxy.output()).toContain(`CONNECT localhost:${front.port}`);
    // The path and the key travel inside TLS: tinyproxy never logs them.
    expect(proxy.output()).not.toContain("/v1/images");
  });

  it("a certificate from an untrusted issuer: 503 egress_unreachable, TLS and the proxy named to operators only, nothing sent", async () => {
    upstream.reset();
    const stack = await stackFor(`https://localhost:${rogue.port}`);
    const err = await expectError(await generate(stack, { prompt: "a fox" }), 503, "egress_unreachable");
    expect(JSON.stringify(err)).not.toContain("TLS");
    expect(stack.logs.join("\n")).toContain(`TLS with localhost through the proxy 127.0.0.1:${proxy.port} failed`);
    expect(upstream.apiCalls).toHaveLength(0);

    // /api/health says the same in words, not an error class name.
    const health = await stack.app("/api/health");
    const body = await health.json();
    expect(health.status, JSON.stringify(body)).toBe(503);
    expect(body.egress).toMatchObject({ route_kind: "proxy", failure: "tls", verdict: "unreachable" });
    expect(body.egress.error).toBe(
      `TLS with localhost through the proxy 127.0.0.1:${proxy.port} failed (handshake or certificate)`,
    );
    expect(upstream.apiCalls).toHaveLength(0);
  });

  it("a certificate for another name: 503 egress_unreachable, nothing sent", async () => {
    upstream.reset();
    // The front's certificate names only "localhost"; the tunnel expects 127.0.0.1.
    const stack = await stackFor(`https://127.0.0.1:${front.port}`);
    await expectError(await generate(stack, { prompt: "a fox" }), 503, "egress_unreachable");
    expect(stack.logs.join("\n")).toContain("TLS with 127.0.0.1 through the proxy");
    expect(upstream.apiCalls).toHaveLength(0);
  });
});
