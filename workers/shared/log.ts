/**
 * Structured logging: one JSON object per line, so Workers Logs (and `wrangler tail`) can filter
 * on fields. Callers pass only what is safe to log; this module never sees keys or image bytes.
 */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` as well. */
  with(fields: LogFields): Logger;
}

type Level = "info" | "warn" | "error";

export function createLogger(worker: string, base: LogFields = {}): Logger {
  const write = (level: Level, msg: string, fields?: LogFields) => {
    const line = JSON.stringify({ level, worker, msg, ...base, ...fields });
    if (level === "error") console.error(line);
    else if (level === "warn") console.warn(line);
    else console.log(line);
  };
  return {
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    with: (fields) => createLogger(worker, { ...base, ...fields }),
  };
}

/**
 * Masks anything that looks like an OpenAI key in text we did not write ourselves (upstream error
 * messages echo a masked key such as "sk-abc***wxyz"; even that stays out of logs and responses).
 */
export function redactSecrets(text: string): string {
  return text.replace(/\bsk-[A-Za-z0-9_*\-.]{3,}/g, "sk-[redacted]");
}
