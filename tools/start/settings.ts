/**
 * Which setting goes to which worker for `npm start`. A multi-config `wrangler dev` gives only the
 * primary worker (the app) its `--env-file`/`--var`s and the top-level `.dev.vars`; the relay
 * would read only `workers/relay/.dev.vars`. So the settings are gathered here, from the operator's
 * environment and the top-level `.dev.vars` (or `.env`), and split per worker. The app gets the
 * OpenAI key (and OPENAI_BASE_URL) only when its OPENAI_PROXY has a forward-proxy route, where it
 * calls OpenAI itself; otherwise only the relay holds them.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { readRawConfig } from "./relay-config.ts";
import { egressRoutes, hasProxyRoute, type RouteEntry, usesLocalRelay } from "./routes.ts";

/** Always the relay's, whatever its env.ts says: its upstream and the shared token. */
const RELAY_BASE = ["OPENAI_API_KEY", "OPENAI_BASE_URL", "RELAY_TOKEN"];
const APP_BASE = ["RELAY_TOKEN"];
/** Given to the app only when a forward-proxy route needs them (key custody). */
const PROXY_ROUTE_ONLY = new Set(["OPENAI_API_KEY", "OPENAI_BASE_URL"]);

/** The settings files npm start reads at the project root, the first one found winning outright. */
export const SETTINGS_FILES = [".dev.vars", ".env"] as const;
export type SettingsFile = (typeof SETTINGS_FILES)[number];

/** The setting names each worker reads. */
export interface Keys {
  app: ReadonlySet<string>;
  relay: ReadonlySet<string>;
}

/** Where the local relay sends its calls; "unused": no OPENAI_PROXY route goes through it. */
export type Upstream = "stand-in" | "openai" | "base_url" | "unused";

export interface Plan {
  app: Record<string, string>;
  relay: Record<string, string>;
  upstream: Upstream;
  /** The app's egress routes (OPENAI_PROXY), in order. */
  routes: RouteEntry[];
  /** Settings the app got only because a forward-proxy route needs them (names, never values). */
  forProxyRoute: string[];
  /** Name, source and receiving workers of every setting passed on: for the log, never values. */
  used: Array<{ name: string; source: string; workers: string[] }>;
}

/** The operator's settings file: its values, its name, and a file that was ignored. */
export interface SettingsFileRead {
  values: Record<string, string>;
  source?: SettingsFile;
  /** `.env` when `.dev.vars` exists too: as with `wrangler dev`, only `.dev.vars` is read. */
  ignored?: SettingsFile;
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

/** The settings each worker of the project at `root` reads (its env.ts and wrangler [vars]). */
export function projectKeys(root: string): Keys {
  const of = (envTs: string, config: string) => {
    const path = join(root, envTs);
    const source = existsSync(path) ? readFileSync(path, "utf8") : "";
    return declaredSettings(source, readRawConfig(join(root, config)).vars);
  };
  return workerKeys(
    of("workers/app/src/env.ts", "wrangler.toml"),
    of("workers/relay/src/env.ts", "workers/relay/wrangler.toml"),
  );
}

export function workerKeys(app: string[], relay: string[]): Keys {
  return { app: new Set([...APP_BASE, ...app]), relay: new Set([...RELAY_BASE, ...relay]) };
}

/** A dotenv file as a map, or undefined when it does not exist. */
export function readDotenvFile(path: string): Record<string, string> | undefined {
  if (!existsSync(path)) return undefined;
  return parseEnv(readFileSync(path, "utf8")) as Record<string, string>;
}

/**
 * `.dev.vars` at `dir`, else `.env` (the same rule as `wrangler dev`: with both, `.env` is not
 * read at all, not merged). Nothing when neither exists.
 */
export function readSettingsFile(dir: string): SettingsFileRead {
  const [first, ...others] = SETTINGS_FILES.filter((name) => existsSync(join(dir, name)));
  if (!first) return { values: {} };
  const values = readDotenvFile(join(dir, first)) ?? {};
  return others[0] ? { values, source: first, ignored: others[0] } : { values, source: first };
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
 * Merges the environment over the settings file (a variable set to "" in the environment unsets
 * the setting) and splits the result between the workers. Names neither worker declares go to the
 * app, as plain `wrangler dev` would do with them. OPENAI_API_KEY and OPENAI_BASE_URL go to the
 * app only when its OPENAI_PROXY has a forward-proxy route.
 */
export function planSettings(
  keys: Keys,
  environment: Record<string, string>,
  file: SettingsFileRead = { values: {} },
): Plan {
  const app: Record<string, string> = {};
  const relay: Record<string, string> = {};
  const used: Plan["used"] = [];
  const merged = Object.fromEntries(Object.entries({ ...file.values, ...environment }).filter(([, v]) => v !== ""));
  const routes = egressRoutes(keys.app.has("OPENAI_PROXY") ? merged.OPENAI_PROXY : undefined);
  const proxyRoute = hasProxyRoute(routes);
  const forProxyRoute: string[] = [];

  for (const [key, value] of Object.entries(merged)) {
    const toRelay = keys.relay.has(key);
    const custody = PROXY_ROUTE_ONLY.has(key);
    const toApp = custody ? proxyRoute : keys.app.has(key) || !toRelay;
    if (toApp) app[key] = value;
    if (toRelay) relay[key] = value;
    if (custody && toApp) forProxyRoute.push(key);
    const workers = [toApp ? "app" : "", toRelay ? "relay" : ""].filter(Boolean);
    used.push({ name: key, source: key in environment ? "environment" : (file.source ?? "settings file"), workers });
  }

  const upstream: Upstream = usesLocalRelay(routes) ? relayUpstream(relay) : "unused";
  return { app, relay, upstream, routes, forProxyRoute, used };
}

/** Where the local relay sends its calls, from its own settings (the app's OPENAI_PROXY aside). */
export function relayUpstream(relay: Record<string, string>): Exclude<Upstream, "unused"> {
  return relay.OPENAI_BASE_URL ? "base_url" : relay.OPENAI_API_KEY ? "openai" : "stand-in";
}
