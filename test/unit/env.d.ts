/** Bindings the "unit" vitest project gives `env` from "cloudflare:workers" (see vitest.config.ts). */
declare namespace Cloudflare {
  interface Env {
    IMAGES: R2Bucket;
    DISPATCH: DurableObjectNamespace<import("./worker").TestDispatcher>;
  }
}
