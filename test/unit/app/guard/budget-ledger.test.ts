/**
 * BudgetLedger on its own, hosted by workerd (runInDurableObject): holds, settling to the real
 * cost, refusals (exhausted, busy), a dead call's hold charged at expiry and a late settle
 * replacing that charge, and the day's reset at UTC midnight.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BUSY_RETRY_AFTER_S, type BudgetLedger } from "../../../../workers/app/src/guard/budget";

const ledgerNamed = (name: string) => env.BUDGET.get(env.BUDGET.idFromName(name));
const NOON = Date.UTC(2026, 0, 1, 12, 0, 0);

afterEach(() => {
  vi.useRealTimers();
});

/** Runs `fn` inside a fresh ledger with Date fixed at `at`. */
function inLedger<R>(name: string, fn: (ledger: BudgetLedger, setNow: (ms: number) => void) => Promise<R>) {
  return runInDurableObject(ledgerNamed(name), async (ledger: BudgetLedger) => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(NOON);
    return fn(ledger, (ms) => vi.setSystemTime(ms));
  });
}

describe("BudgetLedger", () => {
  it("holds the estimate, then settles to the real cost", async () => {
    const spent = await inLedger("settle", async (ledger) => {
      const hold = await ledger.reserve(0.5, 1, 60_000);
      if (!hold.ok) throw new Error("refused");
      return (await ledger.settle(hold.id, 0.2)).spent;
    });
    expect(spent).toBeCloseTo(0.2);
  });

  it("refuses a second call as busy while open holds leave no room, and retries in a few seconds", async () => {
    const second = await inLedger("busy", async (ledger) => {
      await ledger.reserve(0.6, 1, 60_000);
      return ledger.reserve(0.6, 1, 60_000);
    });
    expect(second).toMatchObject({ ok: false, reason: "busy", retryAfter: BUSY_RETRY_AFTER_S, held: 0.6 });
  });

  it("lets a lone call through below the budget even when its worst case does not fit", async () => {
    const lone = await inLedger("lone", (ledger) => ledger.reserve(5, 1, 60_000));
    expect(lone.ok).toBe(true);
  });

  it("refuses as exhausted once spending reached the budget, until the next UTC day", async () => {
    const [refused, tomorrow] = await inLedger("exhausted", async (ledger, setNow) => {
      const hold = await ledger.reserve(1, 1, 60_000);
      if (!hold.ok) throw new Error("refused");
      await ledger.settle(hold.id, 1);
      const refused = await ledger.reserve(0.1, 1, 60_000);
      setNow(Date.UTC(2026, 0, 2, 0, 0, 1));
      return [refused, await ledger.reserve(0.1, 1, 60_000)];
    });
    expect(refused).toMatchObject({ ok: false, reason: "exhausted", retryAfter: 12 * 3600, spent: 1 });
    expect(tomorrow.ok).toBe(true);
  });

  it("charges a dead call's hold at its estimate after its time; a late settle replaces that charge", async () => {
    const [next, late] = await inLedger("expiry", async (ledger, setNow) => {
      const hold = await ledger.reserve(0.4, 1, 1_000);
      if (!hold.ok) throw new Error("refused");
      setNow(NOON + 2_000);
      const next = await ledger.reserve(0.1, 1, 60_000);
      return [next, await ledger.settle(hold.id, 0.05)];
    });
    expect(next).toMatchObject({ ok: true, expired: 1 });
    // 0.4 charged at expiry, then replaced by the real 0.05: nothing counted twice.
    expect(late.spent).toBeCloseTo(0.05);
  });

  it("settles each hold once: a repeated settle, or one of an unknown id, charges nothing", async () => {
    const [first, again, unknown, afterExpiry] = await inLedger("settle-once", async (ledger, setNow) => {
      const hold = await ledger.reserve(0.3, 1, 1_000);
      if (!hold.ok) throw new Error("refused");
      const first = await ledger.settle(hold.id, 0.3);
      const again = await ledger.settle(hold.id, 0.3);
      const unknown = await ledger.settle("no-such-hold", 0.5);
      const dead = await ledger.reserve(0.2, 1, 1_000);
      if (!dead.ok) throw new Error("refused");
      setNow(NOON + 2_000);
      await ledger.settle(dead.id, 0.1);
      return [first, again, unknown, await ledger.settle(dead.id, 0.1)];
    });
    expect(first.spent).toBeCloseTo(0.3);
    expect(again.spent).toBeCloseTo(0.3);
    expect(unknown.spent).toBeCloseTo(0.3);
    // The dead hold: charged 0.2 at expiry, replaced by 0.1 once; the repeat adds nothing.
    expect(afterExpiry.spent).toBeCloseTo(0.4);
  });
});
