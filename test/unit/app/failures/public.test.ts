/**
 * failures/public.ts: every typed failure of egress and of reading OpenAI's answer in the
 * client's code and words, and the run's deadline or an unknown error as the fallback.
 */
import { describe, expect, it } from "vitest";
import { EgressFailure, type EgressFailureKind } from "../../../../workers/app/src/egress/types";
import { ApiError } from "../../../../workers/app/src/errors";
import { publicError } from "../../../../workers/app/src/failures/public";
import { AnswerFailure, type AnswerFailureKind } from "../../../../workers/app/src/openai-answer/failure";
import type { LogFields, Logger } from "../../../../workers/shared/log";

/** A logger that keeps its lines, so that a test can show what was (not) logged. */
const lines: string[] = [];
const write = (msg: string, fields?: LogFields) => lines.push(`${msg} ${JSON.stringify(fields ?? {})}`);
const log: Logger = { info: write, warn: write, error: write, with: () => log, redact: (text) => text };

describe("publicError: egress failures", () => {
  it.each<[EgressFailureKind, string, RegExp, boolean]>([
    ["not_sent", "egress_unreachable", /^The image provider could not be reached\. Try again later\.$/, false],
    ["not_sent_timeout", "egress_unreachable", /^The image provider could not be reached\. Try again later\.$/, false],
    ["no_headers", "upstream_error", /could not be reached\. Try again later\./, true],
    ["headers_timeout", "upstream_timeout", /took too long to answer/, true],
    ["body_broken", "upstream_error", /answer was cut off/, true],
    ["body_idle", "upstream_timeout", /stopped sending its answer/, true],
  ])("%s: %s, billed %s", (kind, code, words, billed) => {
    const failure = new EgressFailure(
      kind,
      kind.startsWith("not_sent") ? undefined : "relay-binding",
      "proxy a refused the tunnel",
    );
    const err = publicError(failure, false, log, 1000);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(words);
    expect(err.message).not.toContain("relay-binding");
    // The route's failure (a proxy's address, its verdict on the credentials) is for operators.
    expect(err.message).not.toContain("proxy a");
    expect(failure.mayBeBilled).toBe(billed);
  });

  it("never sent: 503 egress_unreachable with a Retry-After, one message for every cause", () => {
    const err = publicError(new EgressFailure("not_sent", undefined), false, log, 1000);
    expect(err.status).toBe(503);
    expect(Number(err.headers["Retry-After"])).toBeGreaterThan(0);
    expect(err.message).toBe("The image provider could not be reached. Try again later.");
  });
});

describe("publicError: answer failures", () => {
  it.each<[AnswerFailureKind, RegExp]>([
    ["unreadable", /could not be read/],
    ["too_large", /larger than this server accepts/],
    ["stream_error", /failed while generating/],
    ["undecodable", /could not be decoded/],
    ["download_failed", /could not be downloaded/],
    ["not_image", /not an image/],
  ])("%s: upstream_error, own words", (kind, words) => {
    const err = publicError(new AnswerFailure(kind), true, log, 1000);
    expect(err.code).toBe("upstream_error");
    expect(err.message).toMatch(words);
  });
});

describe("publicError: the rest", () => {
  it("passes the app's own errors through unchanged", () => {
    const own = new ApiError("rate_limited", "Too many.");
    expect(publicError(own, true, log, 1000)).toBe(own);
  });

  it("an abort after the run's deadline is a timeout; any other error is 'could not be reached'", () => {
    expect(publicError(new DOMException("x", "AbortError"), true, log, 1000).code).toBe("upstream_timeout");
    expect(publicError(new TypeError("secret detail"), false, log, 1000)).toMatchObject({
      code: "upstream_error",
      message: "The image provider could not be reached. Try again later.",
    });
    expect(lines.join("\n")).not.toContain("secret detail");
  });
});
