import { CONTENT_TYPES, sniffImageType } from "../storage/images";
import { decodeBase64 } from "./image-bytes";

/** Types a preview may have: what the page can show safely (never SVG, which can carry script). */
const PREVIEW_TYPES = new Set(["png", "jpeg", "webp"]);

/** Base64 characters enough for the longest signature (12 bytes, WebP's). */
const SNIFF_CHARS = 16;

/**
 * A partial image as a data URL, its type read from its first bytes as for final images; the
 * upstream's `output_format` is ignored (a hostile one said "svg+xml"). Undefined when the bytes
 * are not a PNG, JPEG or WebP: such a preview is dropped, not passed on. Only the start is
 * decoded: the rest goes to the page as it came, where bad base64 can only break the preview.
 */
export function previewUrl(b64: string): string | undefined {
  let head: Uint8Array;
  try {
    head = decodeBase64(b64.slice(0, SNIFF_CHARS));
  } catch {
    return undefined;
  }
  const type = sniffImageType(head);
  if (!type || !PREVIEW_TYPES.has(type)) return undefined;
  return `data:${CONTENT_TYPES[type]};base64,${b64}`;
}
