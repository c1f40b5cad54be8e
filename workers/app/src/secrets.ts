import { perEnv } from "../../shared/per-env";
import { type Redactor, redactorFor } from "../../shared/redact";
import type { AppBindings } from "./env";

/**
 * The app's redactor: its OpenAI key (proxy routes), the relay token and every proxy password in
 * OPENAI_PROXY, by value, plus anything shaped like a credential. Built once per env object.
 */
export const appRedactor: (env: AppBindings) => Redactor = perEnv((env) => {
  const { OPENAI_API_KEY, RELAY_TOKEN, OPENAI_PROXY } = env as AppBindings;
  return redactorFor([OPENAI_API_KEY, RELAY_TOKEN, ...proxyCredentials(OPENAI_PROXY)]);
});

/** Each entry's password as written, decoded, and as the Basic value built from it. */
function proxyCredentials(value: string | undefined): string[] {
  const out: string[] = [];
  for (const entry of (value ?? "").split(",")) {
    let url: URL;
    try {
      url = new URL(entry.trim());
    } catch {
      continue;
    }
    if (!url.password) continue;
    const user = safeDecode(url.username);
    const password = safeDecode(url.password);
    out.push(url.password, password);
    const bytes = new TextEncoder().encode(`${user}:${password}`);
    out.push(btoa(String.fromCharCode(...bytes)));
  }
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
