/**
 * Route lists and their bookkeeping: a relay over the internet (https://), failover between
 * routes, and the per-isolate cool-off of a route that keeps failing.
 */
import { describe, expect, it } from "vitest";
import { expectError, expectOk, generate } from "../helpers/api.ts";
import { logsOf, type Stack, TEST_KEY, withStack } from "../helpers/stack.ts";
import { freePort } from "../helpers/tinyproxy.ts";

const TOKEN = "route-test-relay-token";

describe("a relay reached over the internet (https://)", () => {
  // The app's outbound fetch stands in for the internet: relay.example.com is the relay's own
  // socket; other.example.com is a relay whose token differs. (Miniflare turns a throw here
  // into a 500, so an unreachable relay is a real refused connection, below.)
  let relayUrl = "";
  const outbound = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (url.host === "other.example.com") {
      return Response.json(
        { error: { message: "Invalid X-Relay-Token.", type: "relay_error", param: null, code: "relay_token_invalid" } },
        { status: 403 },
      );
    }
    return fetch(relayUrl + url.pathname, {
      method: request.method,
      // What a relay would receive over the internet (Node's fetch refuses a copied Host).
      headers: Object.fromEntries([...request.headers].filter(([name]) => !["host", "content-length"].includes(name))),
      body: request.method === "GET" ? undefined : await request.arrayBuffer(),
    });
  };
  const start = async (proxyList: string, run: (s: Stack) => Promise<void>) =>
    withStack(
      {
        appVars: { OPENAI_PROXY: proxyList, RELAY_TOKEN: TOKEN },
        relayVars: { RELAY_TOKEN: TOKEN },
        appOutbound: outbound,
      },
      async (stack) => {
        relayUrl = stack.relayUrl;
        await run(stack);
      },
    );

  it("serves a generation and says which route did", () =>
    start("https://relay.example.com", async (stack) => {
      const lines = await logsOf(stack, () => expectOk(stack));
      expect(lines).toContain('"msg":"Image generation completed successfully"');
      expect(lines).toContain('"route":"relay-url:relay.example.com"');
      expect(stack.standIn.apiCalls).toHaveLength(1);
    }));

  it("a relay that refuses the app's token: failover to the next route; 1 call", () =>
    start("https://other.example.com,relay:", async (stack) => {
      const lines = await logsOf(stack, () => expectOk(stack));
      expect(lines).toContain(
        "Egress route relay-url:other.example.com: the relay refused the app (relay_token_invalid); check RELAY_TOKEN; failing over to relay-binding",
      );
      expect(lines).toContain("Egress route relay-binding served the call");
      expect(stack.standIn.apiCalls).toHaveLength(1);
    }));
});

describe("cool-off: a route that keeps failing is skipped, then tried again", () => {
  it("three connect failures put the proxy in cool-off; after it, one more try", async () => {
    const closed = await freePort();
    const dead = `proxy:127.0.0.1:${closed}`;
    await withStack(
      {
        appVars: {
          OPENAI_PROXY: `http://127.0.0.1:${closed},relay:`,
          OPENAI_API_KEY: TEST_KEY,
          EGRESS_COOLOFF_MS: "1500",
        },
      },
      async (stack) => {
        const tries = await logsOf(stack, async () => {
          for (let i = 0; i < 3; i++) await expectOk(stack);
        });
        expect(tries.match(new RegExp(`Egress route ${dead} could not be used`, "g"))).toHaveLength(3);
        expect(tries).toContain(`Egress route ${dead} failed repeatedly; skipping it for 1500 ms`);

        const skipped = await logsOf(stack, () => expectOk(stack));
        expect(skipped).toContain(`Egress route ${dead} skipped: cooling off after repeated failures`);
        expect(skipped).not.toContain(`Egress route ${dead} could not be used`);
        expect(skipped).toContain("Egress route relay-binding served the call");

        await new Promise((r) => setTimeout(r, 1600));
        const again = await logsOf(stack, () => expectOk(stack));
        expect(again).toContain(`Egress route ${dead} could not be used`);
        // Back after one more failure, not three.
        expect(again).toContain(`Egress route ${dead} failed repeatedly; skipping it for 1500 ms`);
        expect(stack.standIn.apiCalls).toHaveLength(5);
      },
    );
  });
});

describe("a relay URL nobody listens on (a real refused connection, in workerd)", () => {
  // workerd reports a refused TLS connection as an "uncaught exception" even when the fetch's
  // rejection is handled (as it is here); the stack keeps that report, asserted, not printed.
  const settings = (port: number) => ({
    runtimeLogs: true,
    appVars: { OPENAI_PROXY: `https://127.0.0.1:${port},relay:`, RELAY_TOKEN: TOKEN },
    relayVars: { RELAY_TOKEN: TOKEN },
  });

  it("a generation is not sent to the next route (the failure can't be placed): 502, nothing sent", async () => {
    const port = await freePort();
    await withStack(settings(port), async (stack) => {
      const lines = await logsOf(stack, async () => {
        await expectError(await generate(stack, { prompt: "a fox" }), 502, "upstream_error");
      });
      expect(lines).toContain(
        `Egress route relay-url:127.0.0.1:${port}: the connection broke before the answer's headers`,
      );
      expect(stack.standIn.apiCalls).toHaveLength(0);
      expect(stack.runtimeLogs.join("\n")).toContain("Connection refused");
    });
  });

  it("the health check names the refused route and goes on to the next one, which serves", async () => {
    const port = await freePort();
    await withStack(settings(port), async (stack) => {
      const res = await stack.app("/api/health");
      const body = (await res.json()) as {
        egress: { route_name: string; verdict: string };
        routes: Array<{ route_name: string; verdict: string; failure?: string }>;
        warnings: string[];
      };
      expect(res.status).toBe(200);
      expect(body.routes.map((r) => [r.route_name, r.verdict])).toEqual([
        [`relay-url:127.0.0.1:${port}`, "unreachable"],
        ["relay-binding", "ok"],
      ]);
      expect(body.routes[0]?.failure).toBe("connect");
      expect(body.egress.route_name).toBe("relay-binding");
      expect(body.warnings.join("\n")).toContain(`relay-url:127.0.0.1:${port}`);
      expect(stack.runtimeLogs.join("\n")).toContain("Connection refused");
    });
  });
});
