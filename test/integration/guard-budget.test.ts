import { describe, expect, it } from "vitest";
import { expectError, generate } from "../helpers/api.ts";
import { FaultUpstream } from "../helpers/fault-upstream.ts";
import { sseReader } from "../helpers/sse.ts";
import { logsOf, startStack } from "../helpers/stack.ts";
import { stackPool } from "../helpers/stack-pool.ts";
import { freePort } from "../helpers/tinyproxy.ts";

/** gpt-image-1 at 1024x1024 medium is 1056 output tokens (OpenAI's table): $0.20 exactly here. */
const PRICE_TABLE = JSON.stringify({
  "gpt-image-1": {
    text_input_per_mtok: 0,
    image_input_per_mtok: 0,
    image_output_per_mtok: 200_000 / 1056,
    per_image: 0.2,
  },
});
const MEDIUM = { model: "gpt-image-1", size: "1024x1024", quality: "medium" };

const pool = stackPool();
const stackWith = pool.start;

/** Every `spent_usd` the app logged, in order. */
const spentValues = (logs: string) => [...logs.matchAll(/"spent_usd":([\d.]+)/g)].map((m) => Number(m[1]));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const drain = (answers: Response[]) => Promise.all(answers.filter((r) => !r.bodyUsed).map((r) => r.arrayBuffer()));

describe("holds are the worst case of what was asked", () => {
  // gpt-image-2, size and quality auto: high quality at its largest size (8,294,400 px), priced
  // as 1024x1024 high (7034 tokens) scaled by area, at $30 per million: about $1.67.
  const WORST_AUTO_GPT_IMAGE_2 = 1.67;

  it("20 parallel gpt-image-2 calls whose usage says 40,000 output tokens end within budget + one worst case", async () => {
    const stack = await stackWith({ appVars: { DAILY_BUDGET_USD: "2" } });
    // Slow enough that all 20 arrive while the first is still open.
    const body = { model: "gpt-image-2", prompt: "a cat [[output_tokens=40000]] [[slow=1500]]" };
    const answers = await Promise.all(Array.from({ length: 20 }, () => generate(stack, body)));
    const ok = answers.filter((r) => r.status === 200).length;
    // Only one fits at a time: the others are refused while its hold is open, as busy.
    expect(ok).toBe(1);
    await expectError(answers.find((r) => r.status === 429) as Response, 429, "budget_busy");
    await drain(answers);
    // One more, alone, while spending ($1.20) is below the budget: allowed to overshoot once.
    expect((await generate(stack, body)).status).toBe(200);
    await expectError(await generate(stack, body), 429, "budget_exhausted");

    expect(stack.standIn.apiCalls).toHaveLength(2);
    const spent = Math.max(...spentValues(stack.logs.join("\n")));
    expect(spent).toBeCloseTo(2.4005, 3);
    expect(spent).toBeLessThanOrEqual(2 + WORST_AUTO_GPT_IMAGE_2);
  });

  it("usage above the hold is charged in full and logged with the excess", async () => {
    const stack = await stackWith({ appVars: { DAILY_BUDGET_USD: "10" } });
    const logs = await logsOf(stack, async () => {
      const res = await generate(stack, {
        model: "gpt-image-2",
        size: "1024x1024",
        quality: "low",
        prompt: "a cat [[output_tokens=40000]]",
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    });
    // Held: per_image $0.25 (dearer than 200 tokens); billed: 40,000 x $30/M + 50 x $5/M.
    expect(logs).toMatch(/Usage above the budget hold.*"cost_usd":1\.20025.*"hold_usd":0\.25.*"excess_usd":0\.95025/);
    expect(spentValues(logs)).toEqual([1.20025]);
    expect(logs).not.toMatch(/sk-test|Bearer/);
  });
});

describe("a failed call keeps its hold once OpenAI may have billed it", () => {
  const vars = {
    DAILY_BUDGET_USD: "100",
    PRICE_TABLE,
    EGRESS_IDLE_TIMEOUT_MS: "1000",
    EGRESS_RETRY_BUDGET_MS: "0",
  };
  const charged = /Failed call charged to the daily budget at its estimate.*"cost_usd":0\.2\b/;

  it.each([
    ["a 200 with a non-image", "[[not_image]]", 502],
    ["a 200 with undecodable data", "[[not_json]]", 502],
    ["a reset before any answer", "[[reset]]", 502],
    ["a 200 whose body stalls", "[[hold]]", 504],
  ])("%s: charged at the estimate", async (_name, directive, status) => {
    const stack = await stackWith({ appVars: vars });
    const logs = await logsOf(stack, async () => {
      const res = await generate(stack, { ...MEDIUM, prompt: `a cat ${directive}` });
      expect(res.status).toBe(status);
      await res.arrayBuffer();
    });
    stack.standIn.release();
    expect(logs).toMatch(charged);
    expect(spentValues(logs)).toEqual([0.2]);
  });

  it("a stream that stalls after its first preview: charged at the estimate, previews included", async () => {
    const stack = await stackWith({ appVars: vars });
    const logs = await logsOf(stack, async () => {
      const res = await generate(stack, { ...MEDIUM, prompt: "a cat [[hold]]", stream: true, partial_images: 2 });
      const events = await sseReader(res).rest();
      expect(events.map((e) => e.event)).toEqual(["started", "running", "partial", "error"]);
      expect(events[3]?.data).toMatchObject({ error: { code: "upstream_timeout" } });
    });
    stack.standIn.release();
    // 1056 output tokens and 2 partials of 100, at $0.20 per 1056.
    const estimate = Math.round(((1056 + 200) * 0.2 * 1e6) / 1056) / 1e6;
    expect(spentValues(logs)).toEqual([estimate]);
  });

  it("a 200 cut mid-body or short of its length: charged at the estimate", async () => {
    const fault = await new FaultUpstream().start();
    try {
      const stack = await stackWith({ appVars: vars, relayVars: { OPENAI_BASE_URL: fault.url } });
      fault.next({ kind: "reset_mid_body" }, { kind: "truncated" });
      const logs = await logsOf(stack, async () => {
        for (let i = 0; i < 2; i++) {
          const res = await generate(stack, { ...MEDIUM, prompt: "a cat" });
          expect(res.status).toBeGreaterThanOrEqual(500);
          await res.arrayBuffer();
        }
      });
      expect(fault.calls).toHaveLength(2);
      expect(spentValues(logs)).toEqual([0.2, 0.4]);
    } finally {
      await fault.stop();
    }
  });

  it("refusals and calls never sent give the hold back", async () => {
    const stack = await stackWith({ appVars: vars });
    const logs = await logsOf(stack, async () => {
      for (const [directive, status] of [
        ["[[server_error]]", 502],
        ["[[rate_limit]]", 429],
        ["[[bad_request]]", 400],
        ["[[region_block]]", 503],
      ] as const) {
        const res = await generate(stack, { ...MEDIUM, prompt: `a cat ${directive}` });
        expect(res.status, directive).toBe(status);
        await res.arrayBuffer();
      }
      const ok = await generate(stack, { ...MEDIUM, prompt: "a cat" });
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
    });
    expect(logs).not.toMatch(charged);
    expect(spentValues(logs)).toEqual([0.2]);

    const closed = await freePort();
    const unsent = await stackWith({
      appVars: { ...vars, OPENAI_PROXY: `http://127.0.0.1:${closed}`, OPENAI_API_KEY: "sk-test-unused" },
    });
    const unsentLogs = await logsOf(unsent, async () => {
      await expectError(await generate(unsent, { ...MEDIUM, prompt: "a cat" }), 503, "egress_unreachable");
    });
    expect(unsentLogs).toMatch(/the call was not sent/);
    expect(unsentLogs).not.toMatch(charged);
  });
});

describe("open holds answer budget_busy, spending answers budget_exhausted", () => {
  it("slow calls holding the budget: the next call gets a short Retry-After, and succeeds after they finish", async () => {
    const stack = await stackWith({ appVars: { DAILY_BUDGET_USD: "0.5", PRICE_TABLE } });
    const slow = [1, 2].map((i) => generate(stack, { ...MEDIUM, prompt: `cat ${i} [[slow=2000]]` }));
    while (stack.standIn.apiCalls.length < 2) await sleep(20);
    const busy = await generate(stack, { ...MEDIUM, prompt: "a cat" });
    expect(busy.headers.get("retry-after")).toBe("5");
    const envelope = await expectError(busy, 429, "budget_busy");
    expect(envelope.error.message).toMatch(/Retry in 5 s/);
    for (const res of await Promise.all(slow)) {
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const after = await generate(stack, { ...MEDIUM, prompt: "a cat" });
    expect(after.status).toBe(200);
    await after.arrayBuffer();
    // $0.60 spent of $0.50: now it is spending that refuses, until midnight UTC.
    const exhausted = await generate(stack, { ...MEDIUM, prompt: "a cat" });
    expect(Number(exhausted.headers.get("retry-after"))).toBeGreaterThan(5);
    await expectError(exhausted, 429, "budget_exhausted");
  });

  it("a hold whose call died is settled at its estimate when its generation is interrupted", async () => {
    const dir = pool.stateDir("budget-state-");
    // The generation's alarm ends it UPSTREAM_TIMEOUT_MS plus a margin (1 s here) after it was
    // sent, and settles its hold at the estimate; the ledger's own expiry (the generation's
    // longest life, over 10 min here) is a backstop.
    const vars = { DAILY_BUDGET_USD: "0.3", PRICE_TABLE, UPSTREAM_TIMEOUT_MS: "8000" };
    const first = await startStack({ appVars: vars, persistDir: dir });
    const started = Date.now();
    const dying = generate(first, { ...MEDIUM, prompt: "a cat [[hold]]" }).catch(() => undefined);
    while (first.standIn.apiCalls.length === 0) await sleep(50);
    await first.stop(); // the runtime goes away mid-call: nothing settles the hold
    await dying;
    expect(Date.now() - started).toBeLessThan(8000);

    const second = await stackWith({ appVars: vars, persistDir: dir });
    await expectError(await generate(second, { ...MEDIUM, prompt: "a cat" }), 429, "budget_busy");
    await sleep(Math.max(0, started + 11_000 - Date.now()));
    expect(second.logs.join("\n")).toMatch(/Failed call charged to the daily budget at its estimate/);
    const logs = await logsOf(second, async () => {
      const res = await generate(second, { ...MEDIUM, prompt: "a cat" });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    });
    expect(logs).not.toMatch(/Budget holds expired/);
    // The dead call's $0.20 (it may have been billed) and this one's.
    expect(spentValues(logs)).toEqual([0.4]);
  }, 45_000);
});

describe("a queued generation's budget hold", () => {
  it("lasts the generation's whole life: it does not expire (charged as spent) while the generation waits its turn", async () => {
    // Before, a hold lasted UPSTREAM_TIMEOUT_MS + its margin (4 s here) from admission; the queue
    // lets one image through per 3 s, so the third and fourth still wait past that.
    const stack = await startStack({
      standIn: { imagesPerWindow: { images: 1, windowMs: 3000 } },
      appVars: {
        QUEUE_WINDOW_S: "3",
        OPENAI_IMAGES_PER_MINUTE: "1",
        UPSTREAM_TIMEOUT_MS: "2000",
        DAILY_BUDGET_USD: "10",
      },
    });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await generate(
          stack,
          { prompt: `held ${i}` },
          { prefer: "respond-async", "cf-connecting-ip": `198.51.100.${60 + i}` },
        );
        expect(res.status).toBe(202);
        ids.push(((await res.json()) as { id: string }).id);
      }
      await sleep(5000);
      const last = (await (await stack.app(`/api/generations/${ids[3]}`)).json()) as { status: string };
      expect(last.status).toBe("queued");
      const ns = await stack.mf.getDurableObjectNamespace("BUDGET", "image-app");
      const ledger = ns.get(ns.idFromName("global")) as unknown as {
        reserve(estimate: number, budget: number, ttlMs: number): Promise<{ ok: boolean; id: string; expired: number }>;
        settle(id: string, cost: number): Promise<unknown>;
      };
      // A probe hold of 0 USD: the ledger reports the holds it found expired (charged as spent).
      const probe = await ledger.reserve(0, 10, 1000);
      await ledger.settle(probe.id, 0);
      expect(probe.expired).toBe(0);
    } finally {
      await stack.stop();
    }
  }, 45_000);
});
