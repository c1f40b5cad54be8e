import { DurableObject } from "cloudflare:workers";
import type { AppBindings } from "../env";
import { secondsToNextUtcDay } from "./settings";

export type LimitDecision = { ok: true } | { ok: false; retryAfter: number; window: "minute" | "day" };

/**
 * Generation counts of one client (a token, else an IP), in fixed windows: the current minute
 * and the current UTC day. One object per client, so counts are exact and global: the platform's
 * Rate Limiting binding counts per colo and only eventually, which can't promise that 50 calls
 * at once against a limit of 10 let exactly 10 through. A Durable Object handles one call at a
 * time, so it can; the cost is one short round trip per generation.
 */
export class ClientLimiter extends DurableObject<AppBindings> {
  /** Counts one generation if both windows have room; otherwise says when to come back. */
  async take(perMinute: number, perDay: number): Promise<LimitDecision> {
    const now = Date.now();
    const minute = Math.floor(now / 60_000);
    const day = new Date(now).toISOString().slice(0, 10);
    const state = (await this.ctx.storage.get<{ minute: number; m: number; day: string; d: number }>("counts")) ?? {
      minute,
      m: 0,
      day,
      d: 0,
    };
    if (state.minute !== minute) Object.assign(state, { minute, m: 0 });
    if (state.day !== day) Object.assign(state, { day, d: 0 });

    if (perDay > 0 && state.d >= perDay) return { ok: false, retryAfter: secondsToNextUtcDay(now), window: "day" };
    if (perMinute > 0 && state.m >= perMinute) {
      return { ok: false, retryAfter: Math.max(1, Math.ceil(((minute + 1) * 60_000 - now) / 1000)), window: "minute" };
    }
    state.m++;
    state.d++;
    await this.ctx.storage.put("counts", state);
    return { ok: true };
  }
}

/** The limiter of one client. */
export function limiterFor(env: AppBindings, client: string): DurableObjectStub<ClientLimiter> {
  const ns = env.CLIENT_LIMITS as DurableObjectNamespace<ClientLimiter>;
  return ns.get(ns.idFromName(client));
}
