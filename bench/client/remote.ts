/** The bench's handle on the load-generator process (client/main.ts). */
import { fileURLToPath } from "node:url";
import { type Child, spawnChild } from "../child.ts";
import type { LoopOptions, LoopResult, RequestSpec } from "./http.ts";
import type { StreamOutcome } from "./sse.ts";

export type { LoopResult, RequestSpec };

export interface LoadClient {
  pid: number;
  /** A closed loop; `agent` names the keep-alive pool to (re)use. */
  loop(options: LoopOptions & { agent: string }): Promise<LoopResult>;
  closeAgents(): Promise<void>;
  sse(spec: RequestSpec, timeoutMs: number): Promise<StreamOutcome>;
  /** Sizes of `streams` concurrent answers read at `bytesPerSecond` (-1 for a failure). */
  drain(spec: RequestSpec, streams: number, bytesPerSecond: number | undefined, timeoutMs: number): Promise<number[]>;
  stop(): Promise<void>;
}

export async function spawnLoadClient(): Promise<LoadClient> {
  const child: Child<null> = await spawnChild(fileURLToPath(new URL("./main.ts", import.meta.url)));
  return {
    pid: child.pid,
    loop: (options) => child.call("loop", options),
    closeAgents: () => child.call("closeAgents"),
    sse: (spec, timeoutMs) => child.call("sse", { spec, timeoutMs }),
    drain: (spec, streams, bytesPerSecond, timeoutMs) =>
      child.call("drain", { spec, streams, bytesPerSecond, timeoutMs }),
    stop: () => child.stop(),
  };
}
