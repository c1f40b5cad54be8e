/** Bindings the "unit" vitest project gives `env` from "cloudflare:workers" (see vitest.config.ts). */
declare namespace Cloudflare {
  interface Env {
    IMAGES: R2Bucket;
    CLIENT_LIMITS: DurableObjectNamespace<import("./worker").ClientLimiter>;
    BUDGET: DurableObjectNamespace<import("./worker").BudgetLedger>;
    IDEMPOTENCY: DurableObjectNamespace<import("./worker").IdempotencyStore>;
    DISPATCH: DurableObjectNamespace<import("./worker").TestDispatcher>;
    GENERATIONS: DurableObjectNamespace<import("./worker").Generation>;
    TEST_GENERATIONS: DurableObjectNamespace<import("./worker").TestGeneration>;
    BROKEN_QUEUE_GENERATIONS: DurableObjectNamespace<import("./worker").BrokenQueueGeneration>;
  }
}
