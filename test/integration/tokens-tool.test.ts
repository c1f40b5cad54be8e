import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expectError, generate } from "../helpers/api.ts";
import { ROOT } from "../helpers/build.ts";
import { startStack } from "../helpers/stack.ts";

const dir = mkdtempSync(join(tmpdir(), "tokens-tool-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tokens = (...args: string[]) =>
  execFileSync(process.execPath, ["tools/tokens.ts", ...args, "--persist-to", dir], { cwd: ROOT, encoding: "utf8" });

describe("npm run tokens", () => {
  it("adds a token the app then accepts, lists it without the secret, and revokes it", async () => {
    const added = tokens("add", "shop-frontend");
    const token = /\b(img_[A-Za-z0-9_-]{43})\b/.exec(added)?.[1] ?? "";
    expect(token).not.toBe("");

    const listed = tokens("list");
    expect(listed).toContain("shop-frontend");
    expect(listed).not.toContain(token);

    // The same state wrangler dev (npm start) uses: <persist-to>/v3.
    const stack = await startStack({ appVars: { ACCESS_MODE: "tokens" }, persistDir: join(dir, "v3") });
    try {
      const ok = await generate(stack, { prompt: "a cat" }, { authorization: `Bearer ${token}` });
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
    } finally {
      await stack.stop();
    }

    expect(tokens("revoke", "shop-frontend")).toContain("Revoked");
    const after = await startStack({ appVars: { ACCESS_MODE: "tokens" }, persistDir: join(dir, "v3") });
    try {
      await expectError(
        await generate(after, { prompt: "a cat" }, { authorization: `Bearer ${token}` }),
        401,
        "unauthorized",
      );
    } finally {
      await after.stop();
    }
  }, 60_000);
});
