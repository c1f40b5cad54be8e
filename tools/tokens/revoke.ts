/**
 * Which tokens a `revoke` removes. Revoking is irreversible and cuts a client off, so nothing is
 * matched loosely: a name must be equal, a hash prefix needs `--hash` and at least
 * MIN_HASH_PREFIX hex digits, and several matches are refused unless `--all` says so.
 */

/** A stored token: its KV key (`token:<sha256 hex>`), its name and when it was made. */
export interface TokenEntry {
  key: string;
  name: string;
  created: string;
}

/** What to revoke: a name, or (with `--hash`) a prefix of the hash; `all` accepts several matches. */
export interface RevokeRequest {
  name?: string;
  hashPrefix?: string;
  all: boolean;
}

export type RevokeSelection = { ok: true; matches: TokenEntry[] } | { ok: false; message: string };

/** 8 hex digits: 4 billion possibilities, so a typo can't plausibly hit another token. */
export const MIN_HASH_PREFIX = 8;
const KEY_PREFIX = "token:";

/** The hash of an entry, from its KV key. */
export const hashOf = (entry: TokenEntry) => entry.key.slice(KEY_PREFIX.length);

/** One line per token, as `list` and `revoke` show them. */
export const describeToken = (e: TokenEntry) => `"${e.name}" (created ${e.created}, hash ${hashOf(e).slice(0, 12)}…)`;

/** Picks the tokens a revoke request names, or says why it refuses. */
export function selectForRevoke(entries: TokenEntry[], request: RevokeRequest): RevokeSelection {
  let matches: TokenEntry[];
  let what: string;
  if (request.hashPrefix !== undefined) {
    const prefix = request.hashPrefix.toLowerCase();
    if (!new RegExp(`^[0-9a-f]{${MIN_HASH_PREFIX},64}$`).test(prefix)) {
      return { ok: false, message: `--hash needs at least ${MIN_HASH_PREFIX} hex digits of the hash (see list).` };
    }
    matches = entries.filter((e) => hashOf(e).startsWith(prefix));
    what = `hash starting with ${prefix}`;
  } else if (request.name) {
    matches = entries.filter((e) => e.name === request.name);
    what = `named "${request.name}"`;
  } else {
    return { ok: false, message: "Say which token: revoke <name>, or revoke --hash <hex prefix>." };
  }
  if (matches.length === 0) return { ok: false, message: `No token ${what}.` };
  if (matches.length > 1 && !request.all) {
    const list = matches.map((e) => `  ${describeToken(e)}`).join("\n");
    return {
      ok: false,
      message: `${matches.length} tokens ${what}; nothing revoked:\n${list}\nRevoke one with --hash <prefix>, or all of them with --all.`,
    };
  }
  return { ok: true, matches };
}
