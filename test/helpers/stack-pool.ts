import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { type Stack, type StackOptions, startStack } from "./stack.ts";

/**
 * Stacks and state folders that one test file starts as it goes (each test with its own
 * settings), all stopped and removed after the file. Call once, at the file's top level.
 */
export function stackPool() {
  const stacks: Stack[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const stack of stacks) await stack.stop().catch(() => {});
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  return {
    /** A stack stopped after the file. */
    async start(options: StackOptions = {}): Promise<Stack> {
      const stack = await startStack(options);
      stacks.push(stack);
      return stack;
    },
    /** A fresh folder for `persistDir`, removed after the file. */
    stateDir(prefix: string): string {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
  };
}
