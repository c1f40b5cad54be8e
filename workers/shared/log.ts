/**
 * Structured logging: one JSON object per line, so Workers Logs (and `wrangler tail`) can filter
 * on fields. Callers pass only what is safe to log; upstream text in a field may still repeat a
 * credential, so every string goes through the worker's redactor (redact.ts) on the way out: a
 * logger's constant fields once (at its first line), a line's message and fields as it is written.
 */
import { type Redactor, redactShapes } from "./redact";

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` as well. */
  with(fields: LogFields): Logger;
  /** This worker's redactor: for upstream text passed on to a client, masked as in the logs. */
  redact: Redactor;
}

type Level = "info" | "warn" | "error";

/** `redact`: built from the worker's secrets (redactorFor); credential shapes only by default. */
export function createLogger(worker: string, base: LogFields = {}, redact: Redactor = redactShapes): Logger {
  return loggerWith({ worker, ...base }, redact);
}

/**
 * A logger whose lines all carry `constant`. A secret enters a line only through a value, and the
 * redactor is the same for the logger's whole life, so the constant fields are masked once, at its
 * first line (most of the relay's per-request loggers never write one), and each line after masks
 * only its message and its own fields. `constant` is copied: later changes to it are not logged.
 */
function loggerWith(constant: LogFields, redact: Redactor): Logger {
  let safe: LogFields | undefined;
  const write = (level: Level, msg: string, fields?: LogFields) => {
    safe ??= redacted(constant, redact);
    const all: LogFields = { level, worker: safe.worker, msg: redact(msg), ...safe };
    if (fields) Object.assign(all, redacted(fields, redact));
    const line = JSON.stringify(all);
    if (level === "error") console.error(line);
    else if (level === "warn") console.warn(line);
    else console.log(line);
  };
  return {
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    with: (fields) => loggerWith({ ...constant, ...fields }, redact),
    redact,
  };
}

/** A copy of `fields` with every string value masked. */
function redacted(fields: LogFields, redact: Redactor): LogFields {
  const out: LogFields = {};
  for (const name in fields) {
    const value = fields[name];
    out[name] = typeof value === "string" ? redact(value) : value;
  }
  return out;
}

/**
 * Masks anything shaped like a credential in text we did not write ourselves (upstream error
 * messages echo a masked key such as "sk-abc***wxyz"; even that stays out of logs and responses).
 * Prefer the logger's `redact`, which also knows the worker's own secrets by value.
 */
export const redactSecrets: Redactor = redactShapes;
