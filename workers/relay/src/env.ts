/** Bindings of the relay worker. Vars come from wrangler.toml; secrets are set with wrangler. */
export interface RelayEnv {
  /** Where OpenAI (or a compatible server) lives; path prefixes such as /openai are kept. */
  OPENAI_BASE_URL?: string;
  /** Secret. When set, the relay authenticates upstream itself and ignores the caller's key. */
  OPENAI_API_KEY?: string;
  /** Secret. When set, every caller must present it as X-Relay-Token. */
  RELAY_TOKEN?: string;
}

export const DEFAULT_OPENAI_BASE_URL = "https://api.openai.com";
