import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * Two projects:
 * - unit: modules of both workers, run inside workerd (the real runtime: Web Crypto's
 *   timingSafeEqual, R2, streams behave as deployed).
 * - integration: the bundled workers wired by the service binding in Miniflare, driven from
 *   Node, with OpenAI replaced by the stand-in HTTP server on loopback.
 */
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            // The unit project's worker (test/unit/worker.ts): the app's Durable Object classes, and
            // test subclasses with a movable clock, hosted for runInDurableObject.
            main: "./test/unit/worker.ts",
            miniflare: {
              compatibilityDate: "2026-11-01",
              r2Buckets: ["IMAGES"],
              durableObjects: {
                CLIENT_LIMITS: { className: "ClientLimiter", useSQLite: true },
                BUDGET: { className: "BudgetLedger", useSQLite: true },
                IDEMPOTENCY: { className: "IdempotencyStore", useSQLite: true },
                DISPATCH: { className: "TestDispatcher", useSQLite: true },
                GENERATIONS: { className: "Generation", useSQLite: true },
                TEST_GENERATIONS: { className: "TestGeneration", useSQLite: true },
                BROKEN_QUEUE_GENERATIONS: { className: "BrokenQueueGeneration", useSQLite: true },
              },
            },
          }),
        ],
        test: { name: "unit", include: ["test/unit/**/*.test.ts"] },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      // e2e: the same stack serving the web page, driven in Debian's Chromium by playwright-core.
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          // A browser start, a page load and a streamed generation per test.
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
