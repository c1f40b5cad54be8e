/**
 * `npm run dev:relay` (`tools/start.ts --relay-only`): the relay alone as the primary worker of a
 * `wrangler dev`, on http://localhost:8788, for clients that are not Workers (the openai client,
 * curl, another server). It is reached over HTTP, so it always requires a RELAY_TOKEN: without
 * one in the settings, a throwaway token is made up for the run and printed.
 */
import { randomBytes } from "node:crypto";
import { RELAY_DIAGNOSTICS_PATH } from "../../workers/shared/relay-protocol.ts";

export const RELAY_ONLY_FLAG = "--relay-only";
export const DEFAULT_RELAY_PORT = 8788;

/** A random token for one run; base64url, so it pastes into shells and headers as is. */
export function throwawayToken(): string {
  return `dev-relay-${randomBytes(24).toString("base64url")}`;
}

/** The value of `--name value` or `--name=value` among wrangler's arguments. */
export function option(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === name) return args[i + 1];
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}

/** The arguments for `wrangler dev` (our port for the relay unless the operator chose one) and its URL. */
export function relayListen(passThrough: readonly string[]): { args: string[]; url: string } {
  return listenOn(passThrough, DEFAULT_RELAY_PORT);
}

/**
 * The arguments for `wrangler dev` (`defaultPort` unless the operator chose a port) and the URL a
 * local client uses to reach the primary worker.
 */
export function listenOn(passThrough: readonly string[], defaultPort: number): { args: string[]; url: string } {
  const port = option(passThrough, "--port");
  const ip = option(passThrough, "--ip");
  const scheme = option(passThrough, "--local-protocol") === "https" ? "https" : "http";
  // Bound to every address (or to "localhost" by default): a local client says localhost.
  const host = !ip || ip === "0.0.0.0" || ip === "::" || ip === "*" ? "localhost" : ip.includes(":") ? `[${ip}]` : ip;
  const args = port === undefined ? ["--port", String(defaultPort), ...passThrough] : [...passThrough];
  return { args, url: `${scheme}://${host}:${port ?? defaultPort}` };
}

export interface HowToCall {
  url: string;
  /** The token itself when it was made up for this run; otherwise it is never printed. */
  throwaway?: string;
  /** Where the operator's own token came from, when there is one. */
  tokenSource?: string;
  /** Whether the relay sends its own OPENAI_API_KEY upstream (else the caller's Authorization). */
  upstream: "stand-in" | "openai" | "base_url";
  relayHasKey: boolean;
}

/** Ready-to-paste lines: curl, the openai client, the doctor. */
export function howToCall(h: HowToCall): string[] {
  const token = h.throwaway ?? "$RELAY_TOKEN";
  const jsToken = h.throwaway ? `"${h.throwaway}"` : "process.env.RELAY_TOKEN";
  const apiKey = h.relayHasKey
    ? '"unused" /* the relay sends its own OPENAI_API_KEY */'
    : h.upstream === "stand-in"
      ? '"unused" /* the stand-in needs no key */'
      : "process.env.OPENAI_API_KEY /* forwarded upstream: the relay has no key of its own */";
  const body = JSON.stringify({ model: "gpt-image-1", prompt: "a fox" });
  const lines = [
    `Relay: ${h.url} (POST /v1/images/{generations,edits,variations}, GET ${RELAY_DIAGNOSTICS_PATH})`,
    h.throwaway
      ? `RELAY_TOKEN=${h.throwaway}   (made up for this run: set RELAY_TOKEN in .dev.vars to keep one)`
      : `RELAY_TOKEN: yours, from ${h.tokenSource ?? "the settings"} (not shown; $RELAY_TOKEN below stands for it)`,
    "",
    "curl:",
    `  curl -sS ${h.url}/v1/images/generations -H "X-Relay-Token: ${token}" -H "Content-Type: application/json" -d '${body}'`,
    "",
    "openai client (npm i openai):",
    `  import OpenAI from "openai";`,
    `  const openai = new OpenAI({ baseURL: "${h.url}/v1", apiKey: ${apiKey}, defaultHeaders: { "X-Relay-Token": ${jsToken} } });`,
    `  const image = await openai.images.generate({ model: "gpt-image-1", prompt: "a fox" });`,
    "",
    "check it:",
    `  ${h.throwaway ? `RELAY_TOKEN=${h.throwaway} ` : ""}npm run doctor -- --relay ${h.url}`,
  ];
  return lines;
}
