// What a call to a brand-new SQLite-backed Durable Object costs, beside a call to one that
// exists: the durable path makes one new object per generation (bench/fresh-object.ts).
import { DurableObject } from "cloudflare:workers";

export class Probe extends DurableObject {
  /** Answers at once; with `write`, first stores a record of about a generation's size. */
  async ping(write) {
    if (write) this.ctx.storage.kv.put("record", { id: "gen_x", prompt: "x".repeat(300), phase: "queued" });
    return 1;
  }
}

export default {
  /** `?fresh=1&write=1&n=400`: n sequential calls, each to a new object when `fresh`. */
  async fetch(request, env) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? "400");
    const fresh = url.searchParams.get("fresh") === "1";
    const write = url.searchParams.get("write") === "1";
    for (let i = 0; i < n; i++) {
      const id = fresh ? env.PROBE.newUniqueId() : env.PROBE.idFromName("one");
      await env.PROBE.get(id).ping(write);
    }
    return new Response(String(n));
  },
};
