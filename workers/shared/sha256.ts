/**
 * SHA-256 and hex, written once for both workers and the tools (Web Crypto: workerd and Node 22
 * alike). No imports, so Node's tools can load it as it is.
 */

/** Lower-case hex of the bytes, two digits each. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The SHA-256 digest of a text's UTF-8 bytes. */
export function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}

/** The SHA-256 of a text's UTF-8 bytes, as 64 hex digits. */
export async function sha256Hex(text: string): Promise<string> {
  return toHex(new Uint8Array(await sha256(text)));
}
