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
  /** Milliseconds between keep-alive comments on a streamed generation (default 10 s). */
  STREAM_HEARTBEAT_MS?: string;
  /** Milliseconds to wait for the image API's answer; default five minutes. */
  UPSTREAM_TIMEOUT_MS?: string;
}

export interface AppVariables {
  requestId: string;
  log: Logger;
}

/** Hono's context type for the whole app, declared once. */
export type AppEnv = { Bindings: AppBindings; Variables: AppVariables };
