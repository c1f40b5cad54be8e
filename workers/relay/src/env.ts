/** Bindings of the relay worker. Vars come from wrangler.toml; secrets are set with wrangler. */
export interface RelayEnv {
  /** Where OpenAI (or a compatible server) lives; path prefixes such as /openai are kept. */
  OPENAI_BASE_URL?: string;
  /** Secret. When set, the relay authenticates upstream itself and ignores the caller's key. */
  OPENAI_API_KEY?: string;
  /** Secret. When set, every caller must present it as X-Relay-Token. */
  RELAY_TOKEN?: string;
  /** Largest request body forwarded, in bytes (default 50 MB). */
  RELAY_MAX_BODY_BYTES?: string;
  /** Milliseconds to wait for the upstream's response headers (default 5 minutes). */
  UPSTREAM_TIMEOUT_MS?: string;
  /** "off" disables the resend through a US-located Durable Object after a region block. */
  REGION_FALLBACK?: string;
  /** The Durable Object that sends a call again from a US location (see fallback.ts). */
  EGRESS_FALLBACK?: DurableObjectNamespace;
}

export const DEFAULT_OPENAI_BASE_URL = "https://api.openai.com";
export const DEFAULT_MAX_BODY_BYTES = 50 * 1024 * 1024;
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 5 * 60_000;

/** A positive integer setting, or the default when unset or unusable. */
export function intSetting(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value && Number.isInteger(n) && n > 0 ? n : fallback;
}

export const baseUrl = (env: RelayEnv) => (env.OPENAI_BASE_URL || DEFAULT_OPENAI_BASE_URL).replace(/\/+$/, "");
