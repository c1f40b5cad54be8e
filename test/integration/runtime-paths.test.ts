import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptions } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpText, rawRequest } from "../helpers/raw-http.ts";

/**
 * What path a worker sees for a request target as sent (curl --path-as-is), measured on workerd
 * itself. A worker that echoes `request.url` is reached two ways: workerd's own socket (as in
 * production, where Cloudflare's edge is in front) and Miniflare's entry worker, the front door
 * that `wrangler dev` (`npm start`) serves, which parses the URL with `new URL()` first.
 */
let mf: Miniflare;
let direct: string;
let entry: string;
beforeAll(async () => {
  mf = new Miniflare(
    convertV4MiniflareOptions({
      workers: [
        {
          name: "echo",
          modules: true,
          compatibilityDate: "2026-11-01",
          script: "export default { fetch: (request) => new Response(request.url) };",
          unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
        } as V4WorkerOptions,
      ],
    }),
  );
  entry = (await mf.ready).href;
  direct = (await mf.unsafeGetDirectURL("echo")).href;
});
afterAll(() => mf?.dispose());

/** The path the worker saw: `request.url` after its origin, unparsed. */
const seenVia = async (base: string, target: string) => {
  const res = await rawRequest(base, httpText("GET", target, {}));
  expect(res.status).toBe(200);
  return res.body.slice(res.body.indexOf("/", "http://".length));
};

// [target as sent, what workerd hands the worker (unchanged), what wrangler dev's front door hands it]
const cases: Array<[string, string, string]> = [
  ["/v1/images/../images/generations", "/v1/images/../images/generations", "/v1/images/generations"],
  ["/v1/images/%2e%2e/images/generations", "/v1/images/%2e%2e/images/generations", "/v1/images/generations"],
  ["/v1/images/%2E%2E/images/generations", "/v1/images/%2E%2E/images/generations", "/v1/images/generations"],
  ["/a/../../../v1/images/generations", "/a/../../../v1/images/generations", "/v1/images/generations"],
  ["/v1/./images/generations", "/v1/./images/generations", "/v1/images/generations"],
  ["/v1\\images\\generations", "/v1\\images\\generations", "/v1/images/generations"],
  ["/v1/images%2fgenerations", "/v1/images%2fgenerations", "/v1/images%2fgenerations"],
  ["//v1/images/generations", "//v1/images/generations", "//v1/images/generations"],
  ["/v1//images/generations", "/v1//images/generations", "/v1//images/generations"],
  ["/v1/images/generation%73", "/v1/images/generation%73", "/v1/images/generation%73"],
];

describe("paths as the runtime hands them to a worker", () => {
  it.each(cases)("%s: workerd passes %s, the wrangler dev front door %s", async (target, raw, normalised) => {
    expect(await seenVia(direct, target)).toBe(raw);
    expect(await seenVia(entry, target)).toBe(normalised);
  });
});
