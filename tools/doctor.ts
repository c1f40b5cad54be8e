/**
 * `npm run doctor -- [--app|--relay] [url]`: asks a running app or relay whether image generation
 * can work, and says in plain words what is wrong and what to do.
 *
 *   npm run doctor                        the local app of a running `npm start` (the URL it wrote to
 *                                         .wrangler/app-url.json), else http://localhost:8787/api/health
 *   npm run doctor -- --app <url>         an app: <url>/api/health (includes the relay's verdict)
 *   npm run doctor -- --relay <url>       a relay: <url>/_relay/diagnostics, with X-Relay-Token
 *   npm run doctor -- <url>               an app if the URL ends in /api/health, a relay otherwise
 *
 * The relay's token is RELAY_TOKEN from the environment, else from the top-level .dev.vars or .env
 * (the environment wins; set to "" it unsets), as for npm start. No secret is ever printed.
 * Exit code: 0 when everything is OK, 1 when something is not, 2 for a usage error.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { RELAY_DIAGNOSTICS_PATH, RELAY_TOKEN_HEADER } from "../workers/shared/relay-protocol.ts";
import { explainApp, explainNoAnswer, explainRelay, type Finding } from "./doctor/explain.ts";
import { runningAppUrl } from "./start/app-url.ts";
import { readSettingsFile } from "./start/settings.ts";

const ROOT = resolve(fileURLToPath(import.meta.url), "..", "..");
const LOCAL_APP = "http://localhost:8787";
const APP_PATH = "/api/health";
/** The relay's probes take up to 10 s, the app's wait for the relay up to 25 s. */
const TIMEOUT_MS = 45_000;

const USAGE = `Usage: npm run doctor -- [--app <url> | --relay <url> | <url>]
  (nothing)        check the app of the running npm start, on whatever port it uses (else ${LOCAL_APP})
  --app <url>      check an app through its ${APP_PATH}
  --relay <url>    check a relay through its ${RELAY_DIAGNOSTICS_PATH} (X-Relay-Token from RELAY_TOKEN)
  <url>            an app when the URL ends in ${APP_PATH}, a relay otherwise`;

interface Target {
  kind: "app" | "relay";
  /** The endpoint called. */
  url: string;
  /** The command that checks it again. */
  rerun: string;
}

class UsageError extends Error {}

function endpoint(kind: Target["kind"], given: string): string {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new UsageError(`not a URL: ${given}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`not an http(s) URL: ${given}`);
  if (url.username || url.password) throw new UsageError("put no credentials in the URL");
  // The relay answers at its root; a pasted client baseURL (".../v1") means the same relay.
  const suffix = kind === "app" ? /\/api\/health\/?$|\/+$/ : /\/_relay\/diagnostics\/?$|\/v1\/?$|\/+$/;
  const base = url.origin + url.pathname.replace(suffix, "");
  return base + (kind === "app" ? APP_PATH : RELAY_DIAGNOSTICS_PATH);
}

function parseArgs(argv: readonly string[]): Target {
  const rest = [...argv];
  let kind: Target["kind"] | undefined;
  let given: string | undefined;
  while (rest.length > 0) {
    const arg = rest.shift() as string;
    if (arg === "--app" || arg === "--relay") {
      if (kind) throw new UsageError("give one of --app and --relay");
      kind = arg === "--app" ? "app" : "relay";
      given = rest.shift();
      if (!given || given.startsWith("-")) throw new UsageError(`${arg} needs a URL`);
    } else if (arg.startsWith("-")) {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      if (given) throw new UsageError("give one URL");
      given = arg;
    }
  }
  if (!given) return { kind: "app", url: (runningAppUrl(ROOT) ?? LOCAL_APP) + APP_PATH, rerun: "npm run doctor" };
  kind ??= /\/api\/health\/?$/.test(new URL(given, "http://x").pathname) ? "app" : "relay";
  return { kind, url: endpoint(kind, given), rerun: `npm run doctor -- --${kind} ${given}` };
}

/** RELAY_TOKEN and where it came from (never its value in any output). */
function relayToken(): { token?: string; source?: string } {
  const fromEnv = process.env.RELAY_TOKEN;
  if (fromEnv !== undefined) return fromEnv ? { token: fromEnv, source: "the environment" } : {};
  const file = readSettingsFile(ROOT);
  const fromFile = file.values.RELAY_TOKEN;
  return fromFile ? { token: fromFile, source: file.source } : {};
}

function describeError(err: unknown): string {
  if (err instanceof Error && err.name === "TimeoutError") return `no answer within ${TIMEOUT_MS / 1000} s`;
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

async function check(target: Target): Promise<Finding> {
  const { token, source } = target.kind === "relay" ? relayToken() : {};
  if (target.kind === "relay") {
    console.log(
      `Relay diagnostics: ${target.url} (${RELAY_TOKEN_HEADER}: ${source ? `RELAY_TOKEN from ${source}` : "none"})`,
    );
  } else {
    console.log(`App health: ${target.url}`);
  }
  let res: Response;
  try {
    res = await fetch(target.url, {
      headers: { accept: "application/json", ...(token ? { [RELAY_TOKEN_HEADER]: token } : {}) },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    return explainNoAnswer(target.url, describeError(err), target.kind);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return target.kind === "relay"
    ? explainRelay(res.status, body, { url: target.url, tokenSource: source, rerun: target.rerun })
    : explainApp(res.status, body, { url: target.url, rerun: target.rerun });
}

async function main(): Promise<number> {
  let target: Target;
  try {
    target = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`doctor: ${err.message}\n${USAGE}`);
    return 2;
  }
  const finding = await check(target);
  const paint = process.stdout.isTTY && !process.env.NO_COLOR;
  const [headline, ...rest] = finding.lines;
  console.log(paint ? `\x1b[1;${finding.ok ? 32 : 31}m${headline}\x1b[0m` : headline);
  for (const line of rest) console.log(line);
  return finding.ok ? 0 : 1;
}

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  console.log(USAGE);
} else {
  process.exitCode = await main();
}
