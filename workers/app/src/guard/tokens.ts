/**
 * API tokens for ACCESS_MODE=tokens. Only a SHA-256 hash of each token is stored (KV binding
 * API_TOKENS, key `token:<hex>`), so the store leaks nothing usable; `npm run tokens` adds, lists
 * and revokes them (tools/tokens.ts).
 */
export const TOKEN_KEY_PREFIX = "token:";

export interface TokenRecord {
  name: string;
  created: string;
}

export async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The record of a presented token, or undefined when it is unknown or revoked. */
export async function findToken(
  kv: KVNamespace,
  token: string,
): Promise<{ hash: string; record: TokenRecord } | undefined> {
  const hash = await hashToken(token);
  const record = await kv.get<TokenRecord>(TOKEN_KEY_PREFIX + hash, "json");
  return record ? { hash, record } : undefined;
}
