/**
 * Streaming: how long each SSE event takes from the moment the upstream writes its first byte to
 * the moment the client receives that byte, direct and through each hop. Both ends read the same
 * machine-wide monotonic clock (hrtime), each in its own process.
 *
 * Downstream events are matched to upstream events by position, after dropping what a hop adds
 * itself (heartbeat comments, the app's `started`, `queued` and `running`). Partial-image events
 * measure streaming; the final event through the app also includes storing the image, so it is
 * reported apart.
 */
import { randomUUID } from "node:crypto";
import type { LoadClient, RequestSpec } from "../client/remote.ts";
import type { BenchConfig } from "../config.ts";
import { percentile, round } from "../stats.ts";

export interface SsePath {
  id: string;
  label: string;
  /** The path this one adds a hop to: the hop's own delay is the difference. */
  previous?: string;
  /** The request for one stream; `directive` (kind, id, pacing) goes into the prompt. */
  spec(directive: string): RequestSpec;
}

export interface SseResult {
  path: string;
  label: string;
  previous?: string;
  kind: string;
  measurable: boolean;
  /** Why not, when not measurable. */
  reason?: string;
  streams: number;
  /** Partial events measured. */
  events: number;
  /** Delay per partial event, ms: upstream's first byte written -> client's first byte received. */
  p50?: number;
  p99?: number;
  max?: number;
  /** Delay of the final (completed) event, median over streams. */
  finalP50?: number;
}

/**
 * Events a hop sends of its own accord, which have no upstream counterpart: heartbeats, and the
 * Generation object's `started`, `queued` (queue position) and `running`.
 */
const OWN_EVENTS = new Set([":", "started", "queued", "running"]);

async function sentTimes(upstreamUrl: string, id: string): Promise<bigint[]> {
  const res = await fetch(`${upstreamUrl}/_bench/sse/${id}`);
  const body = (await res.json()) as { sent_ns: string[] };
  return body.sent_ns.map(BigInt);
}

const sortedOf = (values: number[]) => Float64Array.from(values).sort();

export async function measureStream(
  client: LoadClient,
  path: SsePath,
  kind: string,
  upstreamUrl: string,
  config: BenchConfig,
): Promise<SseResult> {
  const base = { path: path.id, label: path.label, previous: path.previous, kind };
  const notMeasurable = (reason: string): SseResult => ({ ...base, measurable: false, reason, streams: 0, events: 0 });
  const partials: number[] = [];
  const finals: number[] = [];
  const { streams, events, gapMs } = config.sse;
  for (let i = 0; i < streams; i++) {
    const id = randomUUID().replaceAll("-", "");
    const outcome = await client.sse(
      path.spec(`${kind} id=${id} events=${events} gap=${gapMs}`),
      config.requestTimeoutMs,
    );
    const sent = await sentTimes(upstreamUrl, id);
    if (outcome.status !== 200 || !outcome.contentType.startsWith("text/event-stream")) {
      const head = outcome.head.replace(/\s+/g, " ").slice(0, 140);
      return notMeasurable(`answered HTTP ${outcome.status} ${outcome.contentType || "(no content-type)"}: ${head}`);
    }
    const relayed = outcome.events.filter((e) => !OWN_EVENTS.has(e.name));
    if (relayed.length !== sent.length) {
      const names = outcome.events.map((e) => e.name).join(", ");
      return notMeasurable(`upstream sent ${sent.length} events, ${relayed.length} arrived (${names})`);
    }
    relayed.forEach((event, k) => {
      const delay = Number(BigInt(event.at) - (sent[k] as bigint)) / 1e6;
      (k === sent.length - 1 ? finals : partials).push(delay);
    });
  }
  const sorted = sortedOf(partials);
  return {
    ...base,
    measurable: true,
    streams,
    events: partials.length,
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] as number),
    finalP50: round(percentile(sortedOf(finals), 50)),
  };
}
