import { perEnv } from "../../shared/per-env";
import { type Redactor, redactorFor } from "../../shared/redact";
import { RELAY_MISCONFIGURED_PREFIX } from "../../shared/relay-protocol";
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_OPENAI_BASE_URL, DEFAULT_UPSTREAM_TIMEOUT_MS, type RelayEnv } from "./env";
import type { Operator } from "./headers";

/** The relay's settings, parsed. */
export interface RelaySettings {
  openaiBaseUrl: string;
  maxBodyBytes: number;
  upstreamTimeoutMs: number;
  regionFallback: boolean;
  logAllCalls: boolean;
  /** With the relay's own key: the organisation and project its calls bill (never the caller's). */
  organization?: string;
  project?: string;
}

/** A setting that is wrong, by name (never its value: it may be a secret). */
export interface RelayProblem {
  setting: string;
  problem: string;
}

type Parse<T> = (text: string) => { value: T } | { problem: string };

const positive: Parse<number> = (t) => {
  const n = Number(t);
  return Number.isInteger(n) && n > 0 ? { value: n } : { problem: "must be a positive whole number" };
};

const onOff: Parse<boolean> = (t) => {
  const v = t.toLowerCase();
  return v === "on" || v === "off" ? { value: v === "on" } : { problem: 'must be "on" or "off"' };
};

const text: Parse<string | undefined> = (t) => ({ value: t });

const url: Parse<string> = (t) => {
  let parsed: URL | undefined;
  try {
    parsed = new URL(t);
  } catch {
    parsed = undefined;
  }
  if (
    !parsed ||
    !["http:", "https:"].includes(parsed.protocol) ||
    parsed.username ||
    parsed.password ||
    parsed.search
  ) {
    return { problem: "must be an http(s):// URL without credentials or query" };
  }
  return { value: parsed.href.replace(/\/+$/, "") };
};

/**
 * The schema: each setting's parser and default (blank counts as unset). A table rather than
 * zod: the relay has seven settings and no other use for a schema library, and its bundle stays
 * small. Same contract as the app's parser: every problem collected, none silently replaced.
 */
const SCHEMA = {
  openaiBaseUrl: ["OPENAI_BASE_URL", url, DEFAULT_OPENAI_BASE_URL],
  maxBodyBytes: ["RELAY_MAX_BODY_BYTES", positive, DEFAULT_MAX_BODY_BYTES],
  upstreamTimeoutMs: ["UPSTREAM_TIMEOUT_MS", positive, DEFAULT_UPSTREAM_TIMEOUT_MS],
  regionFallback: ["REGION_FALLBACK", onOff, true],
  logAllCalls: ["LOG_ALL_CALLS", onOff, false],
  organization: ["OPENAI_ORGANIZATION", text, undefined],
  project: ["OPENAI_PROJECT", text, undefined],
} as const satisfies {
  [K in keyof RelaySettings]: readonly [keyof RelayEnv, Parse<RelaySettings[K]>, RelaySettings[K]];
};

/** Every setting parsed; settings only when there is no problem. */
export function parseRelaySettings(env: RelayEnv): { settings?: RelaySettings; problems: RelayProblem[] } {
  const problems: RelayProblem[] = [];
  const settings: Record<string, unknown> = {};
  for (const [key, [name, parse, fallback]] of Object.entries(SCHEMA)) {
    const raw = env[name] as unknown;
    // Wrangler passes vars written as TOML numbers or booleans as such: read them as their text,
    // so `REGION_FALLBACK = false` is a problem named, never a silent default.
    if (raw !== undefined && raw !== null && !["string", "number", "boolean"].includes(typeof raw)) {
      problems.push({ setting: name, problem: "must be text, not a binding" });
      continue;
    }
    const text = raw === undefined || raw === null ? "" : String(raw).trim();
    if (text === "") {
      settings[key] = fallback;
      continue;
    }
    const parsed = (parse as Parse<unknown>)(text);
    if ("problem" in parsed) problems.push({ setting: name, problem: parsed.problem });
    else settings[key] = parsed.value;
  }
  return problems.length > 0 ? { problems } : { settings: settings as unknown as RelaySettings, problems };
}

/** Parsed once per env object: the hot path pays a WeakMap lookup. */
export const relaySettings: (env: RelayEnv) => { settings?: RelaySettings; problems: RelayProblem[] } = perEnv((env) =>
  parseRelaySettings(env as RelayEnv),
);

/** The relay's redactor (its key and token, by value, plus credential shapes), built once per env. */
export const relayRedactor: (env: RelayEnv) => Redactor = perEnv((env) => {
  const { OPENAI_API_KEY, RELAY_TOKEN } = env as RelayEnv;
  return redactorFor([OPENAI_API_KEY, RELAY_TOKEN]);
});

/**
 * The operator's key and billing settings, once per env (the same object on every call); callers'
 * own values are used only without a key.
 */
export const operatorOf: (env: RelayEnv) => Operator = perEnv((env) => {
  const settings = relaySettings(env as RelayEnv).settings;
  return {
    apiKey: (env as RelayEnv).OPENAI_API_KEY || undefined,
    organization: settings?.organization,
    project: settings?.project,
  };
});

/** "The relay is misconfigured: A must be …; B must be …." */
export function misconfiguredMessage(problems: readonly RelayProblem[]): string {
  return `${RELAY_MISCONFIGURED_PREFIX}${problems.map((p) => `${p.setting} ${p.problem}`).join("; ")}.`;
}
