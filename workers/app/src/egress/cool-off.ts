/**
 * Routes that keep failing are skipped for a while, so a dead proxy does not cost every call a
 * connect timeout. State lives in the isolate (module scope): each isolate learns on its own,
 * which is cheap and needs no storage; a fresh isolate simply tries every route again.
 */

/** Consecutive failures that put a route in cool-off. */
export const FAILURES_BEFORE_COOL_OFF = 3;

interface RouteHealth {
  failures: number;
  /** Epoch ms until which the route is skipped; 0 when it is not cooling off. */
  until: number;
}

export class CoolOff {
  private readonly routes = new Map<string, RouteHealth>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether the route is being skipped right now. */
  cooling(route: string): boolean {
    return (this.routes.get(route)?.until ?? 0) > this.now();
  }

  /** Epoch ms when the route may be tried again (0 when it is not cooling off). */
  until(route: string): number {
    const until = this.routes.get(route)?.until ?? 0;
    return until > this.now() ? until : 0;
  }

  /** Counts a failure; true when this one starts a cool-off of `ms`. */
  failed(route: string, ms: number): boolean {
    const health = this.routes.get(route) ?? { failures: 0, until: 0 };
    health.failures += 1;
    this.routes.set(route, health);
    if (health.failures < FAILURES_BEFORE_COOL_OFF || ms <= 0) return false;
    // A route tried again after its cool-off gets one chance: one more failure sends it back.
    health.failures = FAILURES_BEFORE_COOL_OFF - 1;
    health.until = this.now() + ms;
    return true;
  }

  /** A route that answered is healthy again. */
  succeeded(route: string): void {
    this.routes.delete(route);
  }

  /** Splits routes into those to try now (in order) and those cooling off. */
  plan<T extends { name: string }>(routes: readonly T[]): { use: T[]; skipped: T[] } {
    const use = routes.filter((r) => !this.cooling(r.name));
    const skipped = routes.filter((r) => this.cooling(r.name));
    // With every route cooling off, trying them all beats refusing the call outright.
    return use.length > 0 ? { use, skipped } : { use: [...routes], skipped: [] };
  }
}

/** This isolate's route health. */
export const isolateCoolOff = new CoolOff();
