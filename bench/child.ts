/**
 * The bench's helper processes (the upstream and the load generator) run apart from the process
 * that hosts Miniflare: each has its own event loop and a small heap, so neither Miniflare's work
 * nor the other helper's skews what it measures. They talk over IPC: the child says it is ready
 * (with a value such as its URL), then answers calls.
 */
import { fork } from "node:child_process";

export interface Child<Ready> {
  pid: number;
  ready: Ready;
  call<T>(op: string, args?: unknown): Promise<T>;
  stop(): Promise<void>;
}

type Message =
  | { type: "ready"; value: unknown }
  | { type: "result"; id: number; value?: unknown; error?: string }
  | { type: "call"; id: number; op: string; args: unknown };

export async function spawnChild<Ready>(modulePath: string, timeoutMs = 30_000): Promise<Child<Ready>> {
  // "advanced" serialisation carries typed arrays (latency samples) without JSON.
  const child = fork(modulePath, [], { stdio: ["ignore", "inherit", "inherit", "ipc"], serialization: "advanced" });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${modulePath} did not start`)), timeoutMs);
    child.on("message", (raw) => {
      const message = raw as Message;
      if (message.type === "ready") {
        clearTimeout(timer);
        resolve(message.value as Ready);
      } else if (message.type === "result") {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.error !== undefined) waiter?.reject(new Error(message.error));
        else waiter?.resolve(message.value);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      const error = new Error(`${modulePath} exited with ${code}`);
      reject(error);
      for (const waiter of pending.values()) waiter.reject(error);
    });
  });
  return {
    pid: child.pid as number,
    ready,
    call: <T>(op: string, args?: unknown) =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ type: "call", id, op, args } satisfies Message);
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.disconnect();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Child side: announce readiness, answer calls, exit when the parent goes away. */
export function serveParent(
  ready: unknown,
  handlers: Record<string, (args: never) => Promise<unknown>>,
  onExit: () => Promise<void> = async () => {},
): void {
  process.on("message", (raw) => {
    const message = raw as Message;
    if (message.type !== "call") return;
    const handler = handlers[message.op];
    const reply = (m: Message) => process.send?.(m);
    if (!handler) {
      reply({ type: "result", id: message.id, error: `unknown op ${message.op}` });
      return;
    }
    handler(message.args as never).then(
      (value) => reply({ type: "result", id: message.id, value }),
      (err: unknown) =>
        reply({ type: "result", id: message.id, error: err instanceof Error ? err.message : String(err) }),
    );
  });
  process.on("disconnect", () => {
    onExit().finally(() => process.exit(0));
  });
  process.send?.({ type: "ready", value: ready } satisfies Message);
}
