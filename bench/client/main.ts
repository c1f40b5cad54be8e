/**
 * Entry of the load-generator process. Keeps one keep-alive agent per name (a target at a
 * concurrency) so that connections stay open across the rounds of an interleaved measurement.
 */
import type { Agent } from "node:http";
import { serveParent } from "../child.ts";
import { closedLoop, keepAliveAgent, type LoopOptions, type RequestSpec, send } from "./http.ts";
import { readStream } from "./sse.ts";

const agents = new Map<string, Agent>();

function agentFor(name: string, concurrency: number): Agent {
  let agent = agents.get(name);
  if (!agent) {
    agent = keepAliveAgent(concurrency);
    agents.set(name, agent);
  }
  return agent;
}

serveParent(null, {
  loop: (args: LoopOptions & { agent: string }) => closedLoop(args, agentFor(args.agent, args.concurrency)),
  closeAgents: async () => {
    for (const agent of agents.values()) agent.destroy();
    agents.clear();
  },
  sse: (args: { spec: RequestSpec; timeoutMs: number }) => readStream(args.spec, args.timeoutMs),
  /** Several large answers at once, each on its own connection; resolves with their sizes. */
  drain: async (args: { spec: RequestSpec; streams: number; bytesPerSecond?: number; timeoutMs: number }) => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: args.streams }, () => send(args.spec, undefined, args.timeoutMs, args.bytesPerSecond)),
    );
    return outcomes.map((o) => (o.status === "fulfilled" && o.value.status === 200 ? o.value.bytes : -1));
  },
});
