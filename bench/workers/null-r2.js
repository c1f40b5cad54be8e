// A bucket that keeps nothing: bound as IMAGES (an RPC entrypoint with R2's `put`) to a second
// copy of the app, so the bench can tell the app's own CPU from Miniflare's R2 simulator's. The
// image bytes still cross the binding, as they do to R2 in production.
import { WorkerEntrypoint } from "cloudflare:workers";

export class NullBucket extends WorkerEntrypoint {
  async put(key, value) {
    return { key, size: value.byteLength };
  }
}

export default {
  fetch: () => new Response("null bucket"),
};
