import { RELAY_TOKEN_HEADER, type RelayErrorCode } from "../../shared/relay-protocol";
import { sha256 } from "../../shared/sha256";
import type { RelayEnv } from "./env";

export type AccessDecision = { ok: true } | { ok: false; status: 401 | 403; code: RelayErrorCode; message: string };

/**
 * Who may use the relay. With RELAY_TOKEN set, every caller must present it. Without it the relay
 * serves only its service binding: a request that came through Cloudflare's edge (the edge always
 * sets cf-connecting-ip, and a client can't remove it) is refused, so a relay deployed with a
 * public URL by mistake is not an open proxy.
 */
export async function checkAccess(request: Request, env: RelayEnv): Promise<AccessDecision> {
  const expected = env.RELAY_TOKEN;
  if (!expected) {
    if (request.headers.has("cf-connecting-ip")) {
      return {
        ok: false,
        status: 403,
        code: "relay_private",
        message: "This relay only serves its service binding. Set RELAY_TOKEN to accept other callers.",
      };
    }
    return { ok: true };
  }
  const given = request.headers.get(RELAY_TOKEN_HEADER);
  if (!given) {
    return {
      ok: false,
      status: 401,
      code: "relay_token_missing",
      message: `Missing ${RELAY_TOKEN_HEADER} header.`,
    };
  }
  if (!(await tokensEqual(given, expected))) {
    return { ok: false, status: 403, code: "relay_token_invalid", message: `Invalid ${RELAY_TOKEN_HEADER}.` };
  }
  return { ok: true };
}

/**
 * Constant-time comparison. Hashing first gives both sides the same length, so neither the
 * content nor the length of the secret leaks through timing.
 */
export async function tokensEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([sha256(a), sha256(b)]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}
