/**
 * Masking of credentials in text we did not write ourselves: upstream error messages, which can
 * repeat the Authorization header they were sent (OpenAI echoes a masked key; a hostile or broken
 * server can echo all of it). One redactor per worker, built from that worker's own secrets,
 * serves both its logger and whatever passes upstream text on, so the two never disagree.
 */

/** Replaces credentials in `text` with a "[redacted]" marker. */
export type Redactor = (text: string) => string;

/** Secrets shorter than this are not matched by value (they would mask ordinary words). */
const MIN_SECRET_CHARS = 4;

/** Shapes of credentials, whoever they belong to: auth schemes, OpenAI keys, URL user info. */
const PATTERNS: Array<[RegExp, string]> = [
  [/\bsk-[A-Za-z0-9_*\-.]{3,}/g, "sk-[redacted]"],
  [/\bsess-[A-Za-z0-9_*\-.]{3,}/g, "sess-[redacted]"],
  // Any bearer token (unless already masked above); Basic only with a credential-like value, so
  // that "Basic plan" in an ordinary message survives.
  [/\b(bearer)\s+(?!\S*\[redacted\])[^\s"',;)]+/gi, "$1 [redacted]"],
  [/\bBasic\s+(?=[A-Za-z0-9+/]*[0-9+/=]|[A-Za-z0-9+/]+[A-Z])[A-Za-z0-9+/]{8,}={0,2}/g, "Basic [redacted]"],
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@"']+@/gi, "$1[redacted]@"],
];

/**
 * A redactor that masks each of `secrets` by its exact value (the configured key, tokens, proxy
 * passwords, whatever their shape) and then anything shaped like a credential.
 */
export function redactorFor(secrets: ReadonlyArray<string | undefined>): Redactor {
  // Longest first, so a secret that contains another is masked whole.
  const values = [...new Set(secrets)]
    .filter((s): s is string => typeof s === "string" && s.length >= MIN_SECRET_CHARS)
    .sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const value of values) if (out.includes(value)) out = out.split(value).join("[redacted]");
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
  };
}

/** Masks credential shapes only, for code that has no secrets of its own to name. */
export const redactShapes: Redactor = redactorFor([]);
