/**
 * The whole pair in workerd through Miniflare: the app worker (entry) with R2 and its RELAY
 * service binding to the relay worker, whose upstream is the OpenAI stand-in on loopback.
 * Bindings come from the real wrangler.toml files, with per-test overrides.
 */
import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptions } from "miniflare";
import { OpenAIStandIn, type StandInOptions } from "../../tools/openai-stand-in/server.ts";
import { workerOptionsFrom } from "../../tools/workers-build.ts";
import { buildEntry, buildWorkers } from "./build.ts";

export const TEST_KEY = "sk-test-not-a-real-key-0001";

export interface StackOptions {
  appVars?: Record<string, string>;
  relayVars?: Record<string, string>;
  standIn?: StandInOptions;
  /** Keep R2, KV and Durable Object state in this folder, so a new stack can pick it up. */
  persistDir?: string;
  /**
   * Another entry module for the app (relative to the root), bundled instead of the app's own:
   * for test subclasses of its Durable Objects (test/unit/held-release-app.ts).
   */
  appEntry?: string;
  /** Replaces the app's outbound network (fetch to anything but its bindings). */
  appOutbound?: (request: Request) => Response | Promise<Response>;
  /**
   * The stand-in's url answers name STAND_IN_FILES (https, a reserved name) and the app's outbound
   * network serves that origin from the stand-in: the app's download rules stay as in production.
   */
  standInFiles?: boolean;
  /**
   * Also collect workerd's own reports (e.g. a refused connection) into `runtimeLogs`, for tests
   * that cause such a fault on purpose and assert it; they are never printed.
   */
  runtimeLogs?: boolean;
}

/** The origin of the stand-in's url answers with `standInFiles` (RFC 2606: never resolves). */
export const STAND_IN_FILES = "https://files.stand-in.example";

export interface Stack {
  mf: Miniflare;
  standIn: OpenAIStandIn;
  /** Every line the workers logged (console.*), in order. */
  logs: string[];
  /** workerd's own reports, with `runtimeLogs` only (never the workers' console lines). */
  runtimeLogs: string[];
  /** A request to the app, as an end user on the internet would send it. */
  app(path: string, init?: RequestInit): Promise<Response>;
  /**
   * The app's own socket on loopback: workerd's HTTP server with nothing in front (no Miniflare
   * entry worker, which adds CF-Connecting-IP), for raw-socket tests.
   */
  appUrl: string;
  /** The relay's own address on loopback, e.g. for the openai client. */
  relayUrl: string;
  /** A request straight to the relay, as a caller outside the service binding. */
  relay(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const scripts = await buildWorkers();
  const appScript = options.appEntry ? await buildEntry(options.appEntry) : scripts.app;
  const standIn = await new OpenAIStandIn({
    apiKey: TEST_KEY,
    ...(options.standInFiles ? { filesOrigin: STAND_IN_FILES } : {}),
    ...options.standIn,
  }).start();
  const filesOutbound = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (url.origin !== STAND_IN_FILES) return new Response("not on the test network", { status: 502 });
    return fetch(standIn.url + url.pathname, { method: request.method, redirect: "manual" });
  };
  const outbound = options.appOutbound ?? (options.standInFiles ? filesOutbound : undefined);
  const logs: string[] = [];
  const runtimeLogs: string[] = [];

  const appConfig = workerOptionsFrom("wrangler.toml");
  const relayConfig = workerOptionsFrom("workers/relay/wrangler.toml");
  // Miniflare 5 takes a new options shape; wrangler still speaks the v4 one, hence the conversion.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      // The workers log one JSON object per line; with `runtimeLogs`, workerd's own reports
      // (plain text) are kept apart, so tests that parse every worker line still can.
      handleStructuredLogs: (log) =>
        (options.runtimeLogs && !log.message.startsWith("{") ? runtimeLogs : logs).push(log.message),
      ...(options.runtimeLogs ? { verbose: true } : {}),
      ...(options.persistDir ? { resourcePersistencePath: options.persistDir } : {}),
      workers: [
        {
          ...appConfig,
          modules: true,
          scriptPath: appScript,
          // No per-client limits unless a test sets them: most tests send many calls from one "client".
          bindings: { ...appConfig.bindings, RATE_LIMIT_PER_MINUTE: "0", RATE_LIMIT_PER_DAY: "0", ...options.appVars },
          ...(outbound ? { outboundService: outbound } : {}),
          unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
        } as V4WorkerOptions,
        {
          ...relayConfig,
          modules: true,
          scriptPath: scripts.relay,
          // A real socket, so tests (and the openai client) reach the relay as an HTTP server.
          unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
          bindings: {
            ...relayConfig.bindings,
            OPENAI_BASE_URL: standIn.url,
            OPENAI_API_KEY: TEST_KEY,
            ...options.relayVars,
          },
        } as V4WorkerOptions,
      ],
    }),
  );
  await mf.ready;
  const relayUrl = (await mf.unsafeGetDirectURL("image-relay")).href.replace(/\/$/, "");
  const appUrl = (await mf.unsafeGetDirectURL(appConfig.name)).href.replace(/\/$/, "");

  return {
    mf,
    standIn,
    logs,
    runtimeLogs,
    app: async (path, init) =>
      (await mf.dispatchFetch(`http://localhost${path}`, init as never)) as unknown as Response,
    appUrl,
    relayUrl,
    relay: (path, init) => fetch(relayUrl + path, init),
    stop: async () => {
      await mf.dispose();
      await standIn.stop();
    },
  };
}

/** Runs `run` against a stack of its own, stopped afterwards whatever happens. */
export async function withStack(options: StackOptions, run: (stack: Stack) => Promise<void>): Promise<void> {
  const stack = await startStack(options);
  try {
    await run(stack);
  } finally {
    await stack.stop();
  }
}

/** The log lines a stack wrote while `run` ran, joined by line breaks. */
export async function logsOf(stack: Stack, run: () => Promise<void>): Promise<string> {
  const before = stack.logs.length;
  await run();
  return stack.logs.slice(before).join("\n");
}
