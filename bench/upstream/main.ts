/** Entry of the upstream process: serves answers on loopback, reports its URL to the bench. */
import { serveParent } from "../child.ts";
import { BenchUpstream } from "./server.ts";

const upstream = await new BenchUpstream().start();
serveParent(upstream.url, {}, () => upstream.stop());
