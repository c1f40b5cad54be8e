import type { Logger } from "../../shared/log";

/** Bindings and settings of the app worker (vars in wrangler.toml, secrets set with wrangler). */
export interface AppBindings {
  /** The web page's static files (workers/app/public); served before the worker runs. */
  ASSETS?: Fetcher;
  /** Generated images, served back from /api/images/:name. */
  IMAGES: R2Bucket;
  /** The relay, reached without leaving Cloudflare. Used when OPENAI_PROXY is unset. */
  RELAY?: Fetcher;
  IMAGE_GENERATION_PROVIDER?: string;
  /** Unset: the RELAY binding. `https://...`: a relay reached over the internet. */
  OPENAI_PROXY?: string;
  /** Secret shared with the relay, sent as X-Relay-Token. */
  RELAY_TOKEN?: string;
  DEFAULT_MODEL?: string;
  /** Comma-separated list of models end users may ask for. */
  ALLOWED_MODELS?: string;
  /** "true" to include prompts in logs (off by default: prompts are user data). */
  LOG_PROMPTS?: string;
  /** "open" (anyone, within the limits) or "tokens" (Authorization: Bearer <token> required). */
  ACCESS_MODE?: string;
  /** Comma-separated origins whose pages may call the API from a browser ("*": any). */
  ALLOWED_ORIGINS?: string;
  /** Generations per client per minute and per UTC day ("0": no limit); defaults 10 and 100. */
  RATE_LIMIT_PER_MINUTE?: string;
  RATE_LIMIT_PER_DAY?: string;
  /** USD the deployment may spend per UTC day; unset: no budget. */
  DAILY_BUDGET_USD?: string;
  /** JSON overriding the default prices (guard/pricing.ts). */
  PRICE_TABLE?: string;
  /** Hashes of API tokens (ACCESS_MODE=tokens), managed with `npm run tokens`. */
  API_TOKENS?: KVNamespace;
  /** Per-client generation counts (guard/rate-limit.ts). */
  CLIENT_LIMITS?: DurableObjectNamespace;
  /** The day's spending (guard/budget.ts). */
  BUDGET?: DurableObjectNamespace;
  /** Answers kept for repeated Idempotency-Keys (guard/idempotency.ts). */
  IDEMPOTENCY?: DurableObjectNamespace;
  /** Milliseconds between keep-alive comments on a streamed generation (default 10 s). */
  STREAM_HEARTBEAT_MS?: string;
  /** Milliseconds to wait for the image API's answer; default five minutes. */
  UPSTREAM_TIMEOUT_MS?: string;
}

export interface AppVariables {
  requestId: string;
  /** Who is calling: `token:<hash prefix>` or `ip:<address>` (guard/access.ts). */
  client: string;
  log: Logger;
}

/** Hono's context type for the whole app, declared once. */
export type AppEnv = { Bindings: AppBindings; Variables: AppVariables };
