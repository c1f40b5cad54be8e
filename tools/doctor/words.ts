/**
 * What the doctor's explanations share: the finding's shape, the commands it suggests and the
 * advice both the relay's and the app's reports lead to.
 */

export interface Finding {
  ok: boolean;
  /** The first line is the verdict; the others explain it and say what to do. */
  lines: string[];
}

export const RELAY_CONFIG = "workers/relay/wrangler.toml";
export const PUT_KEY = `npx wrangler secret put OPENAI_API_KEY -c ${RELAY_CONFIG}`;
export const PUT_TOKEN = `npx wrangler secret put RELAY_TOKEN -c ${RELAY_CONFIG}`;

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/** For a relay whose calls are refused: pin its placement, keep the fallback on. */
export function regionAdvice(rerun: string): string[] {
  return [
    "What to do:",
    `  1. Pin the relay to a region OpenAI serves, in ${RELAY_CONFIG}:`,
    "       [placement]",
    '       region = "aws:us-east-1"',
    `  2. Redeploy the relay: npx wrangler deploy -c ${RELAY_CONFIG}`,
    '  3. Keep REGION_FALLBACK on (do not set it to "off"): a refused call is then sent once more from a',
    "     Durable Object in the US.",
    `  4. Re-run: ${rerun}`,
  ];
}

export const UNREACHABLE_ADVICE = [
  "What to do: check the relay's OPENAI_BASE_URL (the [vars] in workers/relay/wrangler.toml or .dev.vars;",
  "unset means https://api.openai.com), and that the relay's network can reach it (DNS, firewall).",
  "Locally: is the server at OPENAI_BASE_URL running?",
];

/** The worker answered, but with a server error instead of its report. */
export function serverError(kind: "app" | "relay", url: string, status: number, body: unknown): Finding {
  const code = isObject(body) && isObject(body.error) && body.error.code ? ` (${String(body.error.code)})` : "";
  const config = kind === "app" ? "" : ` -c ${RELAY_CONFIG}`;
  return {
    ok: false,
    lines: [
      `${kind.toUpperCase()} ERROR: ${url} answered HTTP ${status}${code} instead of its report: the ${kind} itself failed.`,
      `What to do: look at its logs (deployed: npx wrangler tail${config}; locally: the wrangler dev output).`,
    ],
  };
}

/** "  - SETTING: problem" for each problem a report lists (names only, never values). */
export function problemLines(problems: Array<{ setting?: string; problem?: string }> | undefined): string[] {
  return (problems ?? []).map((p) => `  - ${p.setting ?? "?"}: ${p.problem ?? "?"}`);
}
