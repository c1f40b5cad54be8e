/**
 * `npm run tokens -- add <name> | list | revoke <name> | revoke --hash <hex prefix> [--all]
 *  [--remote] [--persist-to DIR]`
 *
 * API tokens for ACCESS_MODE=tokens. A new token is printed once; only its SHA-256 hash is stored
 * (KV binding API_TOKENS of the app, key `token:<hex>`). Works on the local state that `npm start`
 * uses (default) or on the deployed namespace with --remote, through wrangler's own KV commands.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Hex } from "../workers/shared/sha256.ts";
import { describeToken, hashOf, selectForRevoke, type TokenEntry } from "./tokens/revoke.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PREFIX = "token:";
const WRANGLER = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const [, value] = args.splice(i, 2);
  return value ?? "";
};
const toggle = (name: string) => {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
};
const remote = toggle("--remote");
const all = toggle("--all");
const persistTo = flag("--persist-to");
const hashArg = flag("--hash");
const [command, target] = args;

function wrangler(kvArgs: string[]): string {
  const where = remote ? ["--remote"] : ["--local", ...(persistTo ? ["--persist-to", persistTo] : [])];
  const run = spawnSync(
    process.execPath,
    [WRANGLER, "kv", ...kvArgs, "--binding", "API_TOKENS", "-c", "wrangler.toml", ...where],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" },
    },
  );
  if (run.status !== 0) {
    console.error(run.stderr || run.stdout);
    process.exit(1);
  }
  return run.stdout;
}

function entries(): TokenEntry[] {
  const keys = JSON.parse(wrangler(["key", "list", "--prefix", PREFIX])) as Array<{ name: string }>;
  return keys.map(({ name: key }) => {
    const record = JSON.parse(wrangler(["key", "get", key, "--text"]) || "{}") as { name?: string; created?: string };
    return { key, name: record.name ?? "?", created: record.created ?? "?" };
  });
}

const where = remote
  ? "the deployed API_TOKENS namespace"
  : `local state${persistTo ? ` in ${persistTo}` : " (.wrangler/state)"}`;

if (command === "add" && target) {
  const token = `img_${randomBytes(32).toString("base64url")}`;
  const hash = await sha256Hex(token);
  wrangler(["key", "put", PREFIX + hash, JSON.stringify({ name: target, created: new Date().toISOString() })]);
  console.log(`Added token "${target}" to ${where}. It is shown only now; store it safely:\n\n  ${token}\n`);
  console.log(`Callers send: Authorization: Bearer ${token.slice(0, 8)}…`);
} else if (command === "list") {
  const listed = entries();
  if (listed.length === 0) console.log(`No tokens in ${where}.`);
  for (const e of listed) console.log(`${e.name.padEnd(24)} created ${e.created}  hash ${hashOf(e).slice(0, 12)}…`);
} else if (command === "revoke" && (target || hashArg !== undefined)) {
  const selected = selectForRevoke(entries(), { name: target, hashPrefix: hashArg, all });
  if (!selected.ok) {
    console.error(`${selected.message} (${where})`);
    process.exit(1);
  }
  console.log(`Revoking ${selected.matches.length} token(s) in ${where}:`);
  for (const e of selected.matches) {
    wrangler(["key", "delete", e.key]);
    console.log(`Revoked ${describeToken(e)}.`);
  }
  if (remote) console.log("KV is eventually consistent: other locations may accept it for up to a minute.");
} else {
  console.error(
    "Usage: npm run tokens -- add <name> | list | revoke <name> | revoke --hash <hex prefix, 8+ digits> [--all] [--remote] [--persist-to DIR]",
  );
  process.exit(2);
}
