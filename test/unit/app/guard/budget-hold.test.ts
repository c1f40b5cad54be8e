/**
 * How long a budget hold lasts in the ledger: the generation's whole possible life, so the
 * ledger's expiry (which charges the hold as spent) never comes while the generation still
 * waits or calls; its own end settles the hold first.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../../workers/app/src/config";
import type { AppBindings } from "../../../../workers/app/src/env";
import { nextCheck, queuedDeadline, timingOf } from "../../../../workers/app/src/generations/recover";
import { holdTtlMs } from "../../../../workers/app/src/guard/budget-hold";
import { queuedRecord } from "../generations/fixtures";

const RELAY = { fetch: () => Promise.reject(new Error("not used")) } as unknown as Fetcher;
const configWith = (settings: Partial<AppBindings> = {}) => {
  const { config } = parseConfig({ IMAGES: env.IMAGES, RELAY, ...settings } as AppBindings);
  if (!config) throw new Error("bad settings");
  return config;
};

describe("holdTtlMs", () => {
  it("with the defaults: twice the 300 s queue wait, two 300 s timeouts, the 30 s margin twice and a minute (22 min)", () => {
    expect(holdTtlMs(configWith())).toBe(2 * 300_000 + 2 * 300_000 + 2 * 30_000 + 60_000);
  });

  it("outlasts the latest end recovery allows: a last turn granted at the queue deadline, its call stuck", () => {
    const config = configWith({ QUEUE_MAX_WAIT_S: "4", UPSTREAM_TIMEOUT_MS: "2000" } as Partial<AppBindings>);
    const clock = timingOf(config);
    const record = queuedRecord({ enqueued_at: 0 });
    const lastGrant = queuedDeadline(record, clock) - 1;
    // Sent at once; a stuck run is interrupted a whole timeout after its check (recover.ts).
    const sent = queuedRecord({ enqueued_at: 0, phase: "sent", status: "running", sent_at: lastGrant });
    const latestEnd = nextCheck(sent, clock) + clock.timeoutMs;
    expect(holdTtlMs(config)).toBeGreaterThan(latestEnd);
    // The margin left to settle: as long as the timeout here (at most a minute).
    expect(holdTtlMs(config) - latestEnd).toBeGreaterThanOrEqual(2_000);
  });
});
