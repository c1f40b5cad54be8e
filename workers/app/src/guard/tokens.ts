/**
 * API tokens for ACCESS_MODE=tokens. Only a SHA-256 hash of each token is stored (KV binding
 * API_TOKENS, key `token:<hex>`), so the store leaks nothing usable; `npm run tokens` adds, lists
 * and revokes them (tools/tokens.ts).
 */
import { sha256Hex } from "../../../shared/sha256";

export const TOKEN_KEY_PREFIX = "token:";

export interface TokenRecord {
  name: string;
  created: string;
}

/** The stored form of a token: its SHA-256, hex (tools/tokens.ts stores the same). */
export const hashToken = sha256Hex;

/** The record of a presented token, or undefined when it is unknown or revoked. */
export async function findToken(
  kv: KVNamespace,
  token: string,
): Promise<{ hash: string; record: TokenRecord } | undefined> {
  const hash = await hashToken(token);
  const record = await kv.get<TokenRecord>(TOKEN_KEY_PREFIX + hash, "json");
  return record ? { hash, record } : undefined;
}
