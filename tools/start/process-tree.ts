/**
 * Force-stops a process with all its descendants. `wrangler` (bin/wrangler.js) runs its CLI in a
 * child process, which runs workerd: killing only the top one leaves the others running, still
 * listening on :8787. Used only when wrangler does not stop on its own.
 */
import { spawnSync } from "node:child_process";

/** Every descendant of `pid`, from `ps` (POSIX: Linux and macOS). */
function descendants(pid: number): number[] {
  const out = spawnSync("ps", ["-A", "-o", "pid=,ppid="], { encoding: "utf8" }).stdout ?? "";
  const children = new Map<number, number[]>();
  for (const line of out.split("\n")) {
    const [child, parent] = line.trim().split(/\s+/).map(Number);
    if (!child || parent === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const found: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    for (const child of children.get(todo.pop() as number) ?? []) {
      found.push(child);
      todo.push(child);
    }
  }
  return found;
}

export function killTree(pid: number): void {
  if (process.platform === "win32") {
    spawnSync("taskkill", ["/pid", String(pid), "/T", "/F"]);
    return;
  }
  // Listed before the first kill: once a parent dies, its children are re-parented and lost.
  for (const target of [pid, ...descendants(pid)]) {
    try {
      process.kill(target, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}
