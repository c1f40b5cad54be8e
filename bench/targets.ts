/** The four ways a generation request can travel, as the overhead table names them. */
import type { RequestSpec } from "./client/http.ts";

/**
 * a-d as in the issue; e is d with a bucket that keeps nothing (CPU attribution only); v and w
 * are other builds of the relay and of the app (set up as e), for A/B runs while tuning.
 */
export type TargetId = "a" | "b" | "c" | "d" | "e" | "v" | "w";

export interface Target {
  id: TargetId;
  label: string;
  /** The request for an answer of the given kind (see upstream/answers.ts). */
  spec(answer: string): RequestSpec;
}

export const GENERATIONS = "/v1/images/generations";

/** What an OpenAI client sends; the `bench:` word in the prompt picks the stand-in's answer. */
export function openAIBody(answer: string): string {
  return JSON.stringify({ model: "gpt-image-1-mini", prompt: `bench:${answer} a red fox`, n: 1, size: "1024x1024" });
}

/** What an end user sends to the app; the app names the model and passes the prompt on. */
export function appBody(answer: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ prompt: `bench:${answer} a red fox`, ...extra });
}

export interface Urls {
  upstream: string;
  passthrough: string;
  relay: string;
  app: string;
  appNullR2: string;
}

/** The overhead table's paths, (a) to (d). */
export function targets(urls: Urls): Target[] {
  return [
    { id: "a", label: "direct", spec: (a) => ({ url: urls.upstream + GENERATIONS, body: openAIBody(a) }) },
    { id: "b", label: "pass-through", spec: (a) => ({ url: urls.passthrough + GENERATIONS, body: openAIBody(a) }) },
    { id: "c", label: "relay", spec: (a) => ({ url: urls.relay + GENERATIONS, body: openAIBody(a) }) },
    { id: "d", label: "app→relay→R2", spec: (a) => ({ url: `${urls.app}/api/generate/image`, body: appBody(a) }) },
  ];
}

/**
 * (e): the app path with R2 replaced by a no-op bucket and without Miniflare's asset router
 * (bench/stack.ts), to separate the app's CPU from what only local runs have.
 */
export function nullR2Target(urls: Urls): Target {
  return {
    id: "e",
    label: "app→relay, no-op R2",
    spec: (a) => ({ url: `${urls.appNullR2}/api/generate/image`, body: appBody(a) }),
  };
}

/** The same request asking for SSE: `--stream` in the tuning tools (with an `sse-*` answer). */
export function streamed(spec: RequestSpec): RequestSpec {
  return { ...spec, body: JSON.stringify({ ...JSON.parse(spec.body), stream: true }) };
}

/**
 * Every path the tuning tools (bench/ab.ts, bench/profile.ts) can run: a-e, and v and w when the
 * stack serves other builds of the relay and the app.
 */
export function tuningTargets(urls: Urls & { relayVariant?: string; appVariant?: string }): Target[] {
  const { relayVariant, appVariant } = urls;
  const v: Target[] = relayVariant
    ? [{ id: "v", label: "relay variant", spec: (a) => ({ url: relayVariant + GENERATIONS, body: openAIBody(a) }) }]
    : [];
  const w: Target[] = appVariant
    ? [{ id: "w", label: "app variant", spec: (a) => ({ url: `${appVariant}/api/generate/image`, body: appBody(a) }) }]
    : [];
  return [...targets(urls), nullR2Target(urls), ...v, ...w];
}
