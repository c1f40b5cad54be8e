/**
 * Structured logging: one JSON object per line, so Workers Logs (and `wrangler tail`) can filter
 * on fields. Callers pass only what is safe to log; upstream text in a field may still repeat a
 * credential, so every string goes through the worker's redactor (redact.ts) on the way out.
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
  const write = (level: Level, msg: string, fields?: LogFields) => {
    const all: LogFields = { level, worker, msg, ...base, ...fields };
    for (const [name, value] of Object.entries(all)) if (typeof value === "string") all[name] = redact(value);
    const line = JSON.stringify(all);
    if (level === "error") console.error(line);
    else if (level === "warn") console.warn(line);
    else console.log(line);
  };
  return {
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    with: (fields) => createLogger(worker, { ...base, ...fields }, redact),
    redact,
  };
}

/**
 * Masks anything shaped like a credential in text we did not write ourselves (upstream error
 * messages echo a masked key such as "sk-abc***wxyz"; even that stays out of logs and responses).
 * Prefer the logger's `redact`, which also knows the worker's own secrets by value.
 */
export const redactSecrets: Redactor = redactShapes;
