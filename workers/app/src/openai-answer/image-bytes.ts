import type { Logger } from "../../../shared/log";
import { sniffImageType } from "../storage/images";
import { downloadRefusal } from "./download-target";
import { AnswerFailure } from "./failure";
import type { AnswerImage } from "./images-response";

/** Largest image we download from a URL answer (DALL-E's are a few MB). */
const MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024;

/**
 * The one answer for every failed download, whatever the cause (refused target, redirect, HTTP
 * status, size, not an image): different words would tell whoever chose the URL what it hit.
 * The cause goes to the log.
 */
const downloadFailed = () => new AnswerFailure("download_failed");

class DownloadRefused extends Error {}

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
export async function imageBytes(image: AnswerImage, signal: AbortSignal, log?: Logger): Promise<Uint8Array> {
  if (image.bytes) return image.bytes;
  if (image.b64_json !== undefined) {
    try {
      return decodeBase64(image.b64_json);
    } catch {
      throw new AnswerFailure("undecodable");
    }
  }
  try {
    return await download(image.url ?? "", signal);
  } catch (err) {
    // The call's own deadline or the client's disconnect: the caller tells those apart.
    if (signal.aborted) throw err;
    log?.error("Downloading the image of a url answer failed", {
      reason: err instanceof DownloadRefused ? err.message : err instanceof Error ? err.name : "unknown",
    });
    throw downloadFailed();
  }
}

/**
 * GET straight from the app (see README "Hostile requests and answers" for why not through the
 * egress route), never following a redirect: a 3xx is a failure like any other non-2xx.
 */
async function download(url: string, signal: AbortSignal): Promise<Uint8Array> {
  const refusal = downloadRefusal(url);
  if (refusal) throw new DownloadRefused(`refused target: ${refusal}`);
  const res = await fetch(url, { signal, redirect: "manual" });
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    throw new DownloadRefused(`HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get("content-length"));
  if (declared > MAX_DOWNLOAD_BYTES) {
    await res.body.cancel();
    throw new DownloadRefused(`declared ${declared} bytes`);
  }
  const bytes = await readAllLimited(res.body, MAX_DOWNLOAD_BYTES);
  if (!sniffImageType(bytes)) throw new DownloadRefused("not an image");
  return bytes;
}

async function readAllLimited(body: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > max) throw new DownloadRefused(`more than ${max} bytes`);
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
