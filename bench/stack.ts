/**
 * The workers under test in one workerd process through Miniflare (no `wrangler dev` proxy in
 * front): the app with R2 and its RELAY binding, the relay, the naive pass-through baseline, and
 * a copy of the app whose bucket keeps nothing. Each gets a direct loopback socket, so the load
 * generator reaches them all the same way. Bindings come from the real wrangler.toml files, as in
 * test/helpers/stack.ts.
 */
import { join } from "node:path";
import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptions } from "miniflare";
import { bundleWorker, ROOT, workerOptionsFrom } from "../tools/workers-build.ts";
import { childProcesses, findChildProcess } from "./proc.ts";

export { ROOT };

const OUT = join(ROOT, "dist", "bench");
const BENCH_KEY = "sk-bench-not-a-real-key-0001";

export interface BenchStack {
  /** appNullR2: the same app bundle with IMAGES bound to a bucket that keeps nothing. */
  urls: {
    app: string;
    appNullR2: string;
    relay: string;
    passthrough: string;
    relayVariant?: string;
    appVariant?: string;
  };
  /** The workerd process that runs all the workers. */
  workerdPid: number;
  stop(): Promise<void>;
}

/**
 * The app's options for the CPU-attribution copy: without its R2 bucket (the binding name is then
 * free for a no-op stand-in) and without Miniflare's asset layer. Locally every request to a
 * worker with assets passes through two JS workers (a router and an RPC proxy, about 2 ms of CPU
 * together); in production /api/* goes straight to the worker (`run_worker_first`) and routing is
 * not billed to it.
 */
function appCoreOnly(options: V4WorkerOptions): V4WorkerOptions {
  const {
    r2Buckets: _r2,
    assets: _assets,
    ...rest
  } = options as V4WorkerOptions & {
    r2Buckets?: unknown;
    assets?: unknown;
  };
  return rest as V4WorkerOptions;
}

const LOOPBACK_SOCKET = [{ host: "127.0.0.1", port: 0 }];

/**
 * The app's settings for the bench: per-client limits far above what the bench sends (all its
 * requests come from one client), so the limiter still runs on every request but never refuses.
 */
const APP_BENCH_VARS = { RATE_LIMIT_PER_MINUTE: "1000000000", RATE_LIMIT_PER_DAY: "1000000000" };

export interface BenchStackOptions {
  /** Opens workerd's inspector (for `bench/profile.ts`); the bench itself leaves it shut. */
  inspectorPort?: number;
  /**
   * Another build of the relay (its entry file, relative to the repository), served beside the
   * real one as `relayVariant`, so `bench/ab.ts` can compare two versions in one process.
   */
  relayVariantEntry?: string;
  /** The same for the app: served as `appVariant`, set up like (e) (no-op bucket, no asset router). */
  appVariantEntry?: string;
  /** More settings for the app (d) and its copies, e.g. the queue's limit (bench/queue.ts). */
  appVars?: Record<string, string>;
}

export async function startBenchStack(upstreamUrl: string, options: BenchStackOptions = {}): Promise<BenchStack> {
  const { inspectorPort, relayVariantEntry, appVariantEntry } = options;
  const appVars = { ...APP_BENCH_VARS, ...options.appVars };
  const [app, relay, variant, appVariant] = await Promise.all([
    bundleWorker("workers/app/src/index.ts", "app", OUT),
    bundleWorker("workers/relay/src/index.ts", "relay", OUT),
    relayVariantEntry ? bundleWorker(relayVariantEntry, "relay-variant", OUT) : undefined,
    appVariantEntry ? bundleWorker(appVariantEntry, "app-variant", OUT) : undefined,
  ]);
  const appConfig = workerOptionsFrom("wrangler.toml");
  const relayConfig = workerOptionsFrom("workers/relay/wrangler.toml");
  const appCore = (name: string, scriptPath: string) =>
    ({
      ...appCoreOnly(appConfig),
      name,
      modules: true,
      scriptPath,
      unsafeDirectSockets: LOOPBACK_SOCKET,
      bindings: { ...appConfig.bindings, ...appVars },
      serviceBindings: { ...appConfig.serviceBindings, IMAGES: { name: "null-r2", entrypoint: "NullBucket" } },
    }) as V4WorkerOptions;

  // Another stack may be running in this process (the bench starts fresh ones for some rows).
  const running = new Set(childProcesses(process.pid, "workerd"));
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      // Workers log a line per request; drop them instead of printing thousands of lines.
      handleStructuredLogs: () => {},
      ...(inspectorPort === undefined ? {} : { inspectorPort }),
      workers: [
        {
          ...appConfig,
          modules: true,
          scriptPath: app,
          unsafeDirectSockets: LOOPBACK_SOCKET,
          bindings: { ...appConfig.bindings, ...appVars },
        } as V4WorkerOptions,
        appCore("image-app-null-r2", app),
        ...(appVariant ? [appCore("image-app-variant", appVariant)] : []),
        {
          name: "null-r2",
          modules: true,
          scriptPath: join(ROOT, "bench", "workers", "null-r2.js"),
          compatibilityDate: relayConfig.compatibilityDate,
        } as V4WorkerOptions,
        {
          ...relayConfig,
          modules: true,
          scriptPath: relay,
          unsafeDirectSockets: LOOPBACK_SOCKET,
          bindings: { ...relayConfig.bindings, OPENAI_BASE_URL: upstreamUrl, OPENAI_API_KEY: BENCH_KEY },
        } as V4WorkerOptions,
        ...(variant
          ? [
              {
                ...relayConfig,
                name: "image-relay-variant",
                modules: true,
                scriptPath: variant,
                unsafeDirectSockets: LOOPBACK_SOCKET,
                bindings: { ...relayConfig.bindings, OPENAI_BASE_URL: upstreamUrl, OPENAI_API_KEY: BENCH_KEY },
              } as V4WorkerOptions,
            ]
          : []),
        {
          name: "passthrough",
          modules: true,
          scriptPath: join(ROOT, "bench", "workers", "passthrough.js"),
          compatibilityDate: relayConfig.compatibilityDate,
          unsafeDirectSockets: LOOPBACK_SOCKET,
          bindings: { UPSTREAM: upstreamUrl },
        } as V4WorkerOptions,
      ],
    }),
  );
  await mf.ready;
  const url = async (name: string) => (await mf.unsafeGetDirectURL(name)).href.replace(/\/$/, "");
  const workerdPid = findChildProcess(process.pid, "workerd", running);
  if (workerdPid === undefined) throw new Error("no workerd child process found under this process");

  return {
    urls: {
      app: await url("image-app"),
      appNullR2: await url("image-app-null-r2"),
      relay: await url("image-relay"),
      passthrough: await url("passthrough"),
      ...(variant ? { relayVariant: await url("image-relay-variant") } : {}),
      ...(appVariant ? { appVariant: await url("image-app-variant") } : {}),
    },
    workerdPid,
    stop: () => mf.dispose(),
  };
}
