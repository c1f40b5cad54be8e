/**
 * Which setting goes to which worker for `npm start`. A multi-config `wrangler dev` gives only the
 * primary worker (the app) its `--env-file`/`--var`s and the top-level `.dev.vars`; the relay
 * would read only `workers/relay/.dev.vars`. So the settings are gathered here, from the operator's
 * environment and the top-level `.dev.vars`, and split per worker: the app never gets the key.
 */
import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";

/** Always the relay's, whatever its env.ts says: its upstream and the shared token. */
const RELAY_BASE = ["OPENAI_API_KEY", "OPENAI_BASE_URL", "RELAY_TOKEN"];
const APP_BASE = ["RELAY_TOKEN"];
/** Never given to the app (key custody), even if it came to declare them. */
const RELAY_ONLY = new Set(["OPENAI_API_KEY", "OPENAI_BASE_URL"]);

/** The setting names each worker reads. */
export interface Keys {
  app: ReadonlySet<string>;
  relay: ReadonlySet<string>;
}

/** "remote_relay": the app calls a relay over the internet (OPENAI_PROXY); the local one is idle. */
export type Upstream = "stand-in" | "openai" | "base_url" | "remote_relay";

export interface Plan {
  app: Record<string, string>;
  relay: Record<string, string>;
  upstream: Upstream;
  /** Name, source and receiving workers of every setting passed on: for the log, never values. */
  used: Array<{ name: string; source: string; workers: string[] }>;
}

/**
 * The settings a worker declares: the `NAME?: string` fields of its env.ts (where secrets are
 * typed by hand) and the names in its wrangler `[vars]`. Read from the source so that a setting
 * added to a worker reaches it without a change here.
 */
export function declaredSettings(envTsSource: string, vars: unknown): string[] {
  const typed = [...envTsSource.matchAll(/^\s*([A-Z][A-Z0-9_]*)\??\s*:\s*string\s*;/gm)].map((m) => m[1] as string);
  const configured = vars && typeof vars === "object" ? Object.keys(vars) : [];
  return [...new Set([...typed, ...configured])];
}

export function workerKeys(app: string[], relay: string[]): Keys {
  return { app: new Set([...APP_BASE, ...app]), relay: new Set([...RELAY_BASE, ...relay]) };
}

/** A dotenv file as a map, or undefined when it does not exist. */
export function readDotenvFile(path: string): Record<string, string> | undefined {
  if (!existsSync(path)) return undefined;
  return parseEnv(readFileSync(path, "utf8")) as Record<string, string>;
}

/** The workers' settings present in the environment (the rest of it is never passed on). */
export function fromEnvironment(env: NodeJS.ProcessEnv, keys: Keys): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of new Set([...keys.app, ...keys.relay])) {
    const value = env[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * Merges the environment over `.dev.vars` (a variable set to "" in the environment unsets the
 * setting) and splits the result between the workers. Names neither worker declares go to the
 * app, as plain `wrangler dev` would do with them.
 */
export function planSettings(
  keys: Keys,
  environment: Record<string, string>,
  devVars: Record<string, string> = {},
): Plan {
  const app: Record<string, string> = {};
  const relay: Record<string, string> = {};
  const used: Plan["used"] = [];

  for (const [key, value] of Object.entries({ ...devVars, ...environment })) {
    if (value === "") continue;
    const toRelay = keys.relay.has(key);
    const toApp = !RELAY_ONLY.has(key) && (keys.app.has(key) || !toRelay);
    if (toApp) app[key] = value;
    if (toRelay) relay[key] = value;
    const workers = [toApp ? "app" : "", toRelay ? "relay" : ""].filter(Boolean);
    used.push({ name: key, source: key in environment ? "environment" : ".dev.vars", workers });
  }

  const proxy = app.OPENAI_PROXY?.trim() ?? "";
  const upstream: Upstream = proxy !== "" && proxy !== "relay:" ? "remote_relay" : relayUpstream(relay);
  return { app, relay, upstream, used };
}

/** Where the local relay sends its calls, from its own settings (the app's OPENAI_PROXY aside). */
export function relayUpstream(relay: Record<string, string>): Exclude<Upstream, "remote_relay"> {
  return relay.OPENAI_BASE_URL ? "base_url" : relay.OPENAI_API_KEY ? "openai" : "stand-in";
}
