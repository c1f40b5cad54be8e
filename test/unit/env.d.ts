/** Bindings the "unit" vitest project gives `env` from "cloudflare:workers" (see vitest.config.ts). */
declare namespace Cloudflare {
  interface Env {
    IMAGES: R2Bucket;
    CLIENT_LIMITS: DurableObjectNamespace<import("../../workers/app/src/index").ClientLimiter>;
    BUDGET: DurableObjectNamespace<import("../../workers/app/src/index").BudgetLedger>;
    IDEMPOTENCY: DurableObjectNamespace<import("../../workers/app/src/index").IdempotencyStore>;
  }
}
