/**
 * The load generator's HTTP side (runs in the client process): a closed loop on node:http with
 * keep-alive, where `concurrency` connections each send the next request as soon as the previous
 * answer's last byte arrived; and single reads of large answers at a chosen pace. Every loop is
 * bounded by a request count and a deadline, every request by a timeout, and every URL must be
 * loopback.
 */
import { Agent, request } from "node:http";

export interface RequestSpec {
  url: string;
  body: string;
  headers?: Record<string, string>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export function assertLoopback(url: string): void {
  const { hostname } = new URL(url);
  if (!LOOPBACK.has(hostname)) throw new Error(`refusing to send load to a non-loopback host: ${hostname}`);
}

export function keepAliveAgent(concurrency: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency, noDelay: true });
}

interface Answer {
  status: number;
  bytes: number;
  /** The first 200 bytes of a failure, to tell "slow" from "broken". */
  head?: string;
}

/**
 * One request; resolves when the whole answer has been read. With `bytesPerSecond`, pauses after
 * each chunk to read at that pace (a slow client).
 */
export function send(
  spec: RequestSpec,
  agent: Agent | undefined,
  timeoutMs: number,
  bytesPerSecond?: number,
): Promise<Answer> {
  assertLoopback(spec.url);
  return new Promise((resolve, reject) => {
    const body = Buffer.from(spec.body);
    const req = request(
      spec.url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": body.byteLength, ...spec.headers },
      },
      (res) => {
        let bytes = 0;
        let head: string | undefined;
        const status = res.statusCode ?? 0;
        res.on("data", (chunk: Buffer) => {
          bytes += chunk.byteLength;
          if (status >= 300 && head === undefined) head = chunk.subarray(0, 200).toString();
          if (bytesPerSecond) {
            res.pause();
            setTimeout(() => res.resume(), (chunk.byteLength / bytesPerSecond) * 1000);
          }
        });
        res.on("end", () => resolve({ status, bytes, head }));
        res.on("error", reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

export interface LoopOptions {
  spec: RequestSpec;
  concurrency: number;
  durationMs: number;
  maxRequests: number;
  timeoutMs: number;
}

export interface LoopResult {
  /** Milliseconds from sending the request to the answer's last byte, successes only. */
  latencies: Float64Array;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  bytes: number;
}

export async function closedLoop(options: LoopOptions, agent: Agent): Promise<LoopResult> {
  assertLoopback(options.spec.url);
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let bytes = 0;
  let issued = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(options.durationMs * 1e6));

  const worker = async () => {
    while (issued < options.maxRequests && process.hrtime.bigint() < deadline) {
      issued++;
      const t0 = process.hrtime.bigint();
      try {
        const answer = await send(options.spec, agent, options.timeoutMs);
        if (answer.status >= 200 && answer.status < 300) {
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          bytes += answer.bytes;
        } else {
          errors++;
          firstError ??= `HTTP ${answer.status}: ${answer.head ?? ""}`;
        }
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { latencies: Float64Array.from(latencies), errors, firstError, elapsedMs, bytes };
}
