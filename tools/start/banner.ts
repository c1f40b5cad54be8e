/**
 * What `npm start` says about its settings before wrangler starts: where each setting came from
 * and which worker got it, and every egress route of the app in order with where it leads.
 * Names and hosts only: never a value, a password or a key.
 */
import type { Plan } from "./settings.ts";

export interface BannerOptions {
  /** `npm run dev:relay`: the relay alone, the app's settings unused. */
  relayOnly: boolean;
  /** The local stand-in's URL when one was started for the relay. */
  standInUrl?: string;
}

/** Host of a URL for the log: never its credentials, path or query. */
export function hostOf(url: string | undefined): string {
  try {
    return new URL(url ?? "").host || "(no host)";
  } catch {
    return "(not a URL)";
  }
}

/** Where the local relay's calls go. */
function relayTarget(plan: Plan, standInUrl: string | undefined): string {
  if (standInUrl) return `the local OpenAI stand-in at ${standInUrl} (PLACEHOLDER images)`;
  if (plan.relay.OPENAI_BASE_URL) return `OPENAI_BASE_URL at ${hostOf(plan.relay.OPENAI_BASE_URL)}`;
  return "OpenAI (https://api.openai.com) with OPENAI_API_KEY: real, billed generations";
}

/** Where a forward-proxy route's tunnel leads: the app's OPENAI_BASE_URL, else OpenAI. */
function proxyTarget(plan: Plan): string {
  const to = plan.app.OPENAI_BASE_URL ? `OPENAI_BASE_URL at ${hostOf(plan.app.OPENAI_BASE_URL)}` : "OpenAI";
  return plan.app.OPENAI_API_KEY ? `the app calls ${to} itself through it` : `NO OPENAI_API_KEY: calls through it fail`;
}

/** The plain lines of the banner (the caller adds colour and the "[start]" tag). */
export function bannerLines(
  plan: Plan,
  options: BannerOptions,
  file?: { source?: string; ignored?: string },
): string[] {
  const lines: string[] = [];
  if (file?.ignored) lines.push(`${file.ignored} is not read: ${file.source} exists and wins (as with wrangler dev)`);
  for (const { name, source, workers } of plan.used) {
    // Alone, the relay is the only worker: the app's settings are not used.
    const to = options.relayOnly ? workers.filter((w) => w === "relay") : workers;
    if (to.length === 0) continue;
    const why = !options.relayOnly && plan.forProxyRoute.includes(name) ? " (app: for its forward-proxy route)" : "";
    lines.push(`${name} from ${source} -> ${to.join(", ")}${why}`);
  }
  if (options.relayOnly) {
    lines.push(`relay -> ${relayTarget(plan, options.standInUrl)}`);
    return lines;
  }
  lines.push("app egress routes (OPENAI_PROXY), tried in order:");
  for (const route of plan.routes) {
    const detail =
      route.kind === "relay"
        ? ` -> ${relayTarget(plan, options.standInUrl)}`
        : route.kind === "proxy"
          ? `: ${proxyTarget(plan)}`
          : route.kind === "relay_url"
            ? " (X-Relay-Token from RELAY_TOKEN)"
            : "";
    lines.push(`  ${route.entry}. ${route.label}${detail}`);
  }
  if (plan.upstream === "unused") lines.push("the local relay is not used by any route");
  return lines;
}
