/**
 * `npm start`: the app and the relay in one `wrangler dev`, the app on http://localhost:8787 (or
 * the next free port; its URL goes to .wrangler/app-url.json for `npm run doctor`) and the relay
 * only behind the app's RELAY binding; R2 is simulated on disk (.wrangler/state).
 * Settings come from the environment and the top-level .dev.vars, or .env when there is no
 * .dev.vars (see .dev.vars.example), the environment winning. Without OPENAI_API_KEY and
 * OPENAI_BASE_URL the relay calls a local OpenAI stand-in, run in this process on
 * 127.0.0.1:$STAND_IN_PORT (8790), which draws placeholder images.
 * Arguments go on to wrangler: `npm start -- --port 8788`.
 *
 * `--relay-only` (first argument; `npm run dev:relay`): the relay alone, as the primary worker, on
 * http://localhost:8788 for clients that are not Workers, with the same settings (see
 * start/relay-only.ts). It always requires a RELAY_TOKEN, made up for the run when none is set.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { constants } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { OpenAIStandIn } from "./openai-stand-in/server.ts";
import { alive, chooseAppPort, removeAppUrl, writeAppUrl } from "./start/app-url.ts";
import { bannerLines } from "./start/banner.ts";
import { formatDotenv } from "./start/dotenv.ts";
import { killTree } from "./start/process-tree.ts";
import { readRawConfig, writeRelayConfig } from "./start/relay-config.ts";
import { howToCall, listenOn, option, RELAY_ONLY_FLAG, relayListen, throwawayToken } from "./start/relay-only.ts";
import {
  fromEnvironment,
  type Keys,
  type Plan,
  planSettings,
  projectKeys,
  readSettingsFile,
  relayUpstream,
  type SettingsFileRead,
} from "./start/settings.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const RELAY_CONFIG = join(ROOT, "workers", "relay", "wrangler.toml");
/** Generated files, one folder per run (gitignored); they may hold secrets: removed on exit. */
const RUNS = join(ROOT, ".wrangler", "start");
const OUT = join(RUNS, String(process.pid));
const STAND_IN_PORT = Number(process.env.STAND_IN_PORT) || 8790;
const STOP_GRACE_MS = 10_000;
const RELAY_ONLY = process.argv[2] === RELAY_ONLY_FLAG;
/** Arguments for wrangler. */
const PASS_THROUGH = process.argv.slice(RELAY_ONLY ? 3 : 2);

const tty = process.stdout.isTTY;
const paint = (code: string, text: string) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);
const say = (text: string) => console.log(`${paint("36", "[start]")} ${text}`);

function writePrivate(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

function portFree(port: number, host: string): Promise<boolean> {
  const probe = createServer();
  return new Promise((done) => {
    probe.once("error", () => done(false));
    probe.listen(port, host, () => probe.close(() => done(true)));
  });
}

/** The stand-in on 127.0.0.1:8790, or on any free port when 8790 is taken. */
async function startStandIn(): Promise<OpenAIStandIn> {
  const port = (await portFree(STAND_IN_PORT, "127.0.0.1")) ? STAND_IN_PORT : 0;
  return new OpenAIStandIn({ loud: true }).start(port, "127.0.0.1");
}

function describe(plan: Plan, file: SettingsFileRead, standIn: OpenAIStandIn | undefined): void {
  for (const line of bannerLines(plan, { relayOnly: RELAY_ONLY, standInUrl: standIn?.url }, file)) say(line);
  if (standIn) {
    const bar = paint("1;33", "!".repeat(78));
    const line = (text: string) => console.log(paint("1;33", `!! ${text}`));
    console.log(bar);
    line("No OPENAI_API_KEY and no OPENAI_BASE_URL: generated images are PLACEHOLDERS.");
    line(`The relay calls the local OpenAI stand-in at ${standIn.url}, not OpenAI.`);
    line("For real images put OPENAI_API_KEY in .dev.vars or .env (see .dev.vars.example).");
    console.log(bar);
  }
}

/** wrangler's own environment: the workers' settings are passed through files, not inherited. */
function wranglerEnv(keys: Keys): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of [...keys.app, ...keys.relay]) delete env[key];
  // Would hand the whole environment to every worker, and "false" would make wrangler skip
  // --env-file: either would undo the split between the workers.
  delete env.CLOUDFLARE_INCLUDE_PROCESS_ENV;
  delete env.CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV;
  env.WRANGLER_SEND_METRICS ??= "false";
  // The banner asks npm for a newer wrangler; we print the version ourselves.
  env.WRANGLER_HIDE_BANNER ??= "true";
  // The workers don't read request.cf, so skip fetching it (offline, that prints a warning).
  env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
  return env;
}

/** Folders left by runs that could not clean up (killed outright). */
function removeStaleRuns(): void {
  if (!existsSync(RUNS)) return;
  for (const name of readdirSync(RUNS)) {
    if (!/^\d+$/.test(name) || !alive(Number(name))) rmSync(join(RUNS, name), { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  removeStaleRuns();
  const relayRaw = readRawConfig(RELAY_CONFIG);
  const keys = projectKeys(ROOT);
  const file = readSettingsFile(ROOT);
  const plan = planSettings(keys, fromEnvironment(process.env, keys), file);
  // Alone, the relay is what clients call: the app's OPENAI_PROXY does not apply.
  const upstream = RELAY_ONLY ? relayUpstream(plan.relay) : plan.upstream;
  plan.upstream = upstream;
  if (existsSync(join(ROOT, "workers", "relay", ".dev.vars"))) {
    say("workers/relay/.dev.vars is not read by npm start: put the relay's settings in .dev.vars or .env");
  }
  // Reached over HTTP, the relay must not be open: a token made up for this run when none is set.
  const tokenSource = plan.used.find((u) => u.name === "RELAY_TOKEN")?.source;
  const throwaway = RELAY_ONLY && !plan.relay.RELAY_TOKEN ? throwawayToken() : undefined;
  if (throwaway) plan.relay.RELAY_TOKEN = throwaway;

  const standIn = plan.upstream === "stand-in" ? await startStandIn() : undefined;
  if (standIn) plan.relay.OPENAI_BASE_URL = standIn.url;

  const relayConfig = writeRelayConfig(RELAY_CONFIG, relayRaw, join(OUT, "relay"));
  writePrivate(join(OUT, "relay", ".dev.vars"), formatDotenv(plan.relay, { expand: false }));
  const appEnvFile = join(OUT, "app.env");
  // Always passed, even empty: it replaces the top-level .dev.vars/.env, which may hold the API key.
  writePrivate(appEnvFile, formatDotenv(plan.app, { expand: true }));

  const require = createRequire(import.meta.url);
  const wranglerDir = dirname(require.resolve("wrangler/package.json"));
  const { version } = require("wrangler/package.json") as { version: string };
  // Relative to the root, where wrangler runs; it resolves --env-file against the app's config folder.
  // Alone, the relay is the primary worker and reads the .dev.vars beside its config copy.
  const listen = RELAY_ONLY ? relayListen(PASS_THROUGH) : undefined;
  // The app's port is chosen here, as wrangler would (8787, else the next free one), so that its
  // URL is known: written for `npm run doctor` while this runs.
  const chosen = RELAY_ONLY || option(PASS_THROUGH, "--port") !== undefined;
  const appPort = chosen ? 0 : await chooseAppPort((p) => portFree(p, "127.0.0.1"));
  const app = RELAY_ONLY ? undefined : listenOn(PASS_THROUGH, appPort);
  const args = listen
    ? ["dev", "-c", relative(ROOT, relayConfig), ...listen.args]
    : [
        "dev",
        "-c",
        "wrangler.toml",
        "-c",
        relative(ROOT, relayConfig),
        "--env-file",
        relative(ROOT, appEnvFile),
        ...(app?.args ?? PASS_THROUGH),
      ];
  describe(plan, file, standIn);
  if (throwaway) {
    const bar = paint("1;33", "=".repeat(78));
    console.log(bar);
    console.log(paint("1;33", "No RELAY_TOKEN set: callers must send this throwaway token as X-Relay-Token:"));
    console.log(paint("1", `  RELAY_TOKEN=${throwaway}`));
    console.log(bar);
  }
  say(`wrangler ${version}: wrangler ${args.join(" ")}`);

  const child = spawn(process.execPath, [join(wranglerDir, "bin", "wrangler.js"), ...args], {
    cwd: ROOT,
    env: wranglerEnv(keys),
    stdio: "inherit",
  });
  handleSignals(child);
  if (app) {
    writeAppUrl(ROOT, { url: app.url, pid: process.pid });
    say(`app: ${app.url} (npm run doctor checks it)`);
  }
  if (listen && upstream !== "unused") {
    const relayHasKey = Boolean(plan.relay.OPENAI_API_KEY);
    const calling = howToCall({ url: listen.url, throwaway, tokenSource, upstream, relayHasKey });
    void announceWhenReady(listen.url, calling, child);
  }

  const code = await new Promise<number>((done) => {
    child.once("error", (err) => {
      console.error(`[start] could not run wrangler: ${err.message}`);
      done(1);
    });
    child.once("exit", (exitCode, signal) => done(exitCode ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
  await standIn?.stop();
  removeAppUrl(ROOT, process.pid);
  rmSync(OUT, { recursive: true, force: true });
  process.exit(code);
}

/** Prints how to call the relay once it answers (after wrangler's own start-up lines). */
async function announceWhenReady(url: string, lines: string[], child: ChildProcess): Promise<void> {
  const giveUp = Date.now() + 60_000;
  while (child.exitCode === null && child.signalCode === null && Date.now() < giveUp) {
    try {
      // An unknown path: answered by the relay itself, nothing is sent upstream.
      const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  if (child.exitCode !== null || child.signalCode !== null) return;
  console.log(paint("36", "-".repeat(78)));
  for (const line of lines) console.log(line ? `${paint("36", "[dev:relay]")} ${line}` : "");
  console.log(paint("36", "-".repeat(78)));
}

/**
 * Ctrl-C / SIGTERM / SIGHUP: asks wrangler to stop (it stops workerd). wrangler's launcher passes
 * on only SIGINT and SIGTERM, so SIGHUP goes as SIGTERM. A second signal, or no exit within
 * STOP_GRACE_MS, kills wrangler and its children.
 */
function handleSignals(child: ChildProcess): void {
  let stopping = false;
  const forceStop = () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) killTree(child.pid);
  };
  const stop = (reason: string, signal: NodeJS.Signals) => {
    if (stopping) return forceStop();
    stopping = true;
    say(`${reason}: stopping wrangler`);
    child.kill(signal);
    setTimeout(forceStop, STOP_GRACE_MS).unref();
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => stop(signal, signal === "SIGHUP" ? "SIGTERM" : signal));
  }
  // `npm start` runs us under `sh -c`, which dies of a SIGTERM sent to npm without passing it on;
  // we are then orphaned. Treat that as a SIGTERM rather than leave wrangler running.
  // (process.ppid is read once at startup, so ask whether that process still exists.)
  const parent = process.ppid;
  setInterval(() => {
    if (!stopping && !alive(parent)) stop("parent process gone", "SIGTERM");
  }, 1000).unref();
}

await main().catch((err: unknown) => {
  console.error(`[start] ${err instanceof Error ? err.message : String(err)}`);
  removeAppUrl(ROOT, process.pid);
  rmSync(OUT, { recursive: true, force: true });
  process.exit(1);
});
