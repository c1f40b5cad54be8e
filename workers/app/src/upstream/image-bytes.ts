import { ApiError } from "../errors";
import type { AnswerImage } from "./read-answer";

/** Largest image we download from a URL answer (DALL-E's are a few MB). */
const MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024;

/** Decodes base64 with the runtime's native decoder where it has one. */
export function decodeBase64(b64: string): Uint8Array {
  const native = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  if (native) return native(b64);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * The bytes of one upstream image: already decoded while the answer streamed, decoded from
 * base64 (stream events), or downloaded from the URL the provider
 * gave (those URLs expire, which is one reason we keep a copy).
 */
export async function imageBytes(image: AnswerImage, signal: AbortSignal): Promise<Uint8Array> {
  if (image.bytes) return image.bytes;
  if (image.b64_json !== undefined) {
    try {
      return decodeBase64(image.b64_json);
    } catch {
      throw new ApiError("upstream_error", "The image provider sent an image that could not be decoded.");
    }
  }
  const url = image.url ?? "";
  if (!/^https?:\/\//.test(url)) {
    throw new ApiError("upstream_error", "The image provider sent an image URL that could not be used.");
  }
  const res = await fetch(url, { signal, redirect: "follow" });
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new ApiError("upstream_error", `Downloading the generated image failed (HTTP ${res.status}).`);
  }
  const declared = Number(res.headers.get("content-length"));
  if (declared > MAX_DOWNLOAD_BYTES) {
    await res.body.cancel();
    throw new ApiError("upstream_error", "The generated image is larger than this server accepts.");
  }
  return readAllLimited(res.body, MAX_DOWNLOAD_BYTES);
}

async function readAllLimited(body: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > max) throw new ApiError("upstream_error", "The generated image is larger than this server accepts.");
    chunks.push(chunk);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
