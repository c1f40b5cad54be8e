/**
 * ClientLimiter on its own, hosted by workerd as the app hosts it (runInDurableObject): the
 * windows, the order in which they refuse, and that a refused call is not counted.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ClientLimiter } from "../../../../workers/app/src/guard/rate-limit";

const limiter = (name: string) => env.CLIENT_LIMITS.get(env.CLIENT_LIMITS.idFromName(name));

afterEach(() => {
  vi.useRealTimers();
});

describe("ClientLimiter", () => {
  it("lets exactly perMinute calls through, then names the minute and when to come back", async () => {
    const stub = limiter("minute");
    const decisions = await runInDurableObject(stub, async (object: ClientLimiter) => {
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(Date.UTC(2026, 0, 1, 12, 0, 45));
      const out = [];
      for (let i = 0; i < 3; i++) out.push(await object.take(2, 0));
      return out;
    });
    expect(decisions).toEqual([{ ok: true }, { ok: true }, { ok: false, retryAfter: 15, window: "minute" }]);
  });

  it("counts again in the next minute, but the day's count goes on", async () => {
    const stub = limiter("next-minute");
    const decisions = await runInDurableObject(stub, async (object: ClientLimiter) => {
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(Date.UTC(2026, 0, 1, 12, 0, 59));
      const first = [await object.take(1, 2), await object.take(1, 2)];
      vi.setSystemTime(Date.UTC(2026, 0, 1, 12, 1, 0));
      const second = [await object.take(1, 2), await object.take(1, 2)];
      return [...first, ...second];
    });
    expect(decisions.map((d) => (d.ok ? "ok" : d.window))).toEqual(["ok", "minute", "ok", "day"]);
  });

  it("refuses for the day until the next UTC midnight, and a new day starts from zero", async () => {
    const stub = limiter("day");
    const decisions = await runInDurableObject(stub, async (object: ClientLimiter) => {
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(Date.UTC(2026, 0, 1, 23, 0, 0));
      const today = [await object.take(0, 1), await object.take(0, 1)];
      vi.setSystemTime(Date.UTC(2026, 0, 2, 0, 0, 1));
      return [...today, await object.take(0, 1)];
    });
    expect(decisions).toEqual([{ ok: true }, { ok: false, retryAfter: 3600, window: "day" }, { ok: true }]);
  });

  it("keeps its counts in storage, one object per client", async () => {
    await limiter("a").take(1, 0);
    expect(await limiter("a").take(1, 0)).toMatchObject({ ok: false });
    expect(await limiter("b").take(1, 0)).toEqual({ ok: true });
    const stored = await runInDurableObject(limiter("a"), (_o: ClientLimiter, state) => state.storage.get("counts"));
    expect(stored).toMatchObject({ m: 1, d: 1 });
  });
});
