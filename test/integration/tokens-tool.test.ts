import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { selectForRevoke, type TokenEntry } from "../../tools/tokens/revoke.ts";
import { expectError, generate } from "../helpers/api.ts";
import { ROOT } from "../helpers/build.ts";
import { startStack } from "../helpers/stack.ts";

const dir = mkdtempSync(join(tmpdir(), "tokens-tool-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tokens = (...args: string[]) =>
  execFileSync(process.execPath, ["tools/tokens.ts", ...args, "--persist-to", dir], { cwd: ROOT, encoding: "utf8" });

/** Runs the tool in its own state folder and returns its exit code and output, failing or not. */
function tokensIn(state: string, ...args: string[]): { code: number; out: string } {
  try {
    const out = execFileSync(process.execPath, ["tools/tokens.ts", ...args, "--persist-to", state], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return { code: 0, out };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: e.stdout + e.stderr };
  }
}

const entry = (hash: string, name: string): TokenEntry => ({ key: `token:${hash}`, name, created: "2026-12-01" });
const HASH_A = `c0ffee00${"1".repeat(56)}`;
const HASH_B = `c0ffee00${"2".repeat(56)}`;
const HASH_C = `${"c".repeat(64)}`;

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

describe("revoke: what it matches", () => {
  const stored = [entry(HASH_A, "shop"), entry(HASH_B, "shop"), entry(HASH_C, "c"), entry("d".repeat(64), "cat")];

  it("matches a name exactly, never a hash that starts with it", () => {
    expect(selectForRevoke(stored, { name: "c", all: false })).toEqual({ ok: true, matches: [stored[2]] });
  });

  it("a name matches nothing when no token has it", () => {
    expect(selectForRevoke(stored, { name: "ca", all: false }).ok).toBe(false);
  });

  it.each(["c", "c0ffee0", "c0ffee0g", ""])("refuses a hash prefix shorter than 8 hex digits or not hex: %j", (p) => {
    const answer = selectForRevoke(stored, { hashPrefix: p, all: true });
    expect(answer).toMatchObject({ ok: false, message: expect.stringContaining("at least 8 hex digits") });
  });

  it("revokes one token by a hash prefix, in either case", () => {
    expect(selectForRevoke(stored, { hashPrefix: "CCCCCCCC", all: false })).toEqual({ ok: true, matches: [stored[2]] });
  });

  it("refuses several matches, listing them, unless --all", () => {
    const refused = selectForRevoke(stored, { hashPrefix: "c0ffee00", all: false });
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.message).toContain("nothing revoked");
      expect(refused.message).toContain("c0ffee001111");
      expect(refused.message).toContain("c0ffee002222");
    }
    expect(selectForRevoke(stored, { name: "shop", all: false }).ok).toBe(false);
    expect(selectForRevoke(stored, { hashPrefix: "c0ffee00", all: true })).toEqual({
      ok: true,
      matches: stored.slice(0, 2),
    });
  });
});

describe("npm run tokens -- revoke", () => {
  it("revokes the token named c and nothing else, even when other hashes start with c", () => {
    const state = mkdtempSync(join(tmpdir(), "tokens-revoke-"));
    try {
      expect(tokensIn(state, "add", "c").code).toBe(0);
      // Two more tokens whose hashes start with "c", written as the tool writes them.
      const seed = join(state, "seed.json");
      const value = (name: string) => JSON.stringify({ name, created: "2026-12-01T00:00:00.000Z" });
      writeFileSync(
        seed,
        JSON.stringify([
          { key: `token:${HASH_A}`, value: value("one") },
          { key: `token:${HASH_B}`, value: value("two") },
        ]),
      );
      execFileSync(
        process.execPath,
        [
          join("node_modules", "wrangler", "bin", "wrangler.js"),
          "kv",
          "bulk",
          "put",
          seed,
          "--binding",
          "API_TOKENS",
        ].concat(["-c", "wrangler.toml", "--local", "--persist-to", state]),
        { cwd: ROOT, stdio: "ignore", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
      );

      const byName = tokensIn(state, "revoke", "c");
      expect(byName.code, byName.out).toBe(0);
      expect(byName.out).toMatch(/Revoked "c"/);
      let listed = tokensIn(state, "list").out;
      expect(listed).toMatch(/^one /m);
      expect(listed).toMatch(/^two /m);
      expect(listed).not.toMatch(/^c /m);

      const short = tokensIn(state, "revoke", "--hash", "c0ffee");
      expect(short.code).toBe(1);
      expect(short.out).toContain("at least 8 hex digits");

      const several = tokensIn(state, "revoke", "--hash", "c0ffee00");
      expect(several.code).toBe(1);
      expect(several.out).toContain('"one"');
      expect(several.out).toContain('"two"');
      listed = tokensIn(state, "list").out;
      expect(listed).toMatch(/^one /m);

      const both = tokensIn(state, "revoke", "--hash", "c0ffee00", "--all");
      expect(both.code, both.out).toBe(0);
      expect(both.out).toContain("Revoking 2 token(s)");
      expect(tokensIn(state, "list").out).toContain("No tokens");
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  }, 90_000);
});
