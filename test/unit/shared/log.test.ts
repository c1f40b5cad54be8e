import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger, redactSecrets } from "../../../workers/shared/log";
import { redactorFor } from "../../../workers/shared/redact";

describe("redactSecrets", () => {
  it.each([
    ["Incorrect API key provided: sk-abc***wxyz.", "wxyz"],
    ["sk-proj-********************************************abcd", "abcd"],
    ["key sk-proj-AbC_123-xyz is invalid", "AbC_123"],
    ["Bearer sk-svcacct-0123456789abcdef", "0123456789abcdef"],
    ["(sk-abcdef)", "abcdef"],
  ])("masks the key in %j", (text, secret) => {
    const out = redactSecrets(text);
    expect(out).not.toContain(secret);
    expect(out).toContain("sk-[redacted]");
  });

  it("masks every key in the text", () => {
    expect(redactSecrets("sk-aaaa and sk-bbbb")).toBe("sk-[redacted] and sk-[redacted]");
  });

  it.each(["Rate limit reached for gpt-image-1", "task-list of risk-free items", "ask-me", "sk-"])(
    "leaves %j alone",
    (text) => {
      expect(redactSecrets(text)).toBe(text);
    },
  );
});

describe("createLogger", () => {
  afterEach(() => vi.restoreAllMocks());

  it("writes one JSON line per call, at the console level of its severity, with base fields", () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const logger = createLogger("app", { request_id: "req_1" }).with({ model: "gpt-image-1" });

    logger.info("hello", { n: 2 });
    logger.warn("careful");
    logger.error("broken", { status: 500 });

    expect(log).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(error).toHaveBeenCalledTimes(1);
    expect(JSON.parse(String(log.mock.calls[0]?.[0]))).toEqual({
      level: "info",
      worker: "app",
      msg: "hello",
      request_id: "req_1",
      model: "gpt-image-1",
      n: 2,
    });
    expect(JSON.parse(String(warn.mock.calls[0]?.[0]))).toMatchObject({ level: "warn", msg: "careful" });
    expect(JSON.parse(String(error.mock.calls[0]?.[0]))).toMatchObject({ level: "error", status: 500 });
  });
});

describe("createLogger with a redactor", () => {
  afterEach(() => vi.restoreAllMocks());

  it("masks the worker's secrets in the message, base fields and fields, and hands out the same redactor", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const redact = redactorFor(["provkey-LEAK-42"]);
    const logger = createLogger("app", { route: "via provkey-LEAK-42" }, redact).with({ model: "m" });

    logger.warn("upstream said provkey-LEAK-42", { upstream_message: "Bearer provkey-LEAK-42", n: 1 });

    const line = String(warn.mock.calls[0]?.[0]);
    expect(line).not.toContain("LEAK");
    expect(JSON.parse(line)).toMatchObject({
      msg: "upstream said [redacted]",
      upstream_message: "Bearer [redacted]",
      n: 1,
    });
    expect(logger.redact("key provkey-LEAK-42")).toBe("key [redacted]");
  });
});

describe("createLogger's constant fields", () => {
  afterEach(() => vi.restoreAllMocks());

  it("are redacted once, at the first line (none for a logger that never writes); a line redacts only its message and its own fields", () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const inner = redactorFor(["provkey-LEAK-42"]);
    const seen: string[] = [];
    const redact = (text: string) => {
      seen.push(text);
      return inner(text);
    };
    const logger = createLogger("app", { request_id: "req_1", route: "r" }, redact).with({ model: "m" });
    expect(seen).toEqual([]);

    logger.info("one", { status: "ok", n: 1 });
    expect(seen.sort()).toEqual(["app", "m", "ok", "one", "r", "req_1"]);
    seen.length = 0;
    logger.info("two", { status: "ok" });
    logger.warn("three");

    expect(seen).toEqual(["two", "ok", "three"]);
  });

  it("never let a secret through, however they are given: at creation, through with(), changed afterwards", () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const base: Record<string, string> = { route: "via provkey-LEAK-42" };
    const parent = createLogger("app", base, redactorFor(["provkey-LEAK-42"]));
    base.route = "provkey-LEAK-42 again";
    base.extra = "provkey-LEAK-42";
    const logger = parent.with({ proxy: "provkey-LEAK-42" });

    logger.info("line", { route: "provkey-LEAK-42 in a field" });

    const line = String(log.mock.calls[0]?.[0]);
    expect(line).not.toContain("LEAK");
    expect(JSON.parse(line)).toEqual({
      level: "info",
      worker: "app",
      msg: "line",
      route: "[redacted] in a field",
      proxy: "[redacted]",
    });
  });
});
