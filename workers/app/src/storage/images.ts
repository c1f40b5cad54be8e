/**
 * Generated images in R2. Names are 128 random bits plus the real file type, so a URL can't be
 * guessed from another and the type never depends on what the upstream claimed.
 */
import { toHex } from "../../../shared/sha256";

export type ImageType = "png" | "jpeg" | "webp" | "gif";

export const CONTENT_TYPES: Record<ImageType, string> = {
  png: "image/png",
  jpeg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
};

/** Public name pattern: anything else is a 404 without touching R2. */
export const IMAGE_NAME = /^[0-9a-f]{32}\.(png|jpeg|webp|gif)$/;

const KEY_PREFIX = "images/";

export const imageKey = (name: string) => KEY_PREFIX + name;

/** Magic numbers at the start of each type we accept (null: any byte). */
const SIGNATURES: Array<[ImageType, Array<number | null>]> = [
  ["png", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ["jpeg", [0xff, 0xd8, 0xff]],
  // "RIFF" size "WEBP"
  ["webp", [0x52, 0x49, 0x46, 0x46, null, null, null, null, 0x57, 0x45, 0x42, 0x50]],
  ["gif", [0x47, 0x49, 0x46, 0x38]],
];

/** The file type from its first bytes, or undefined if it is not an image we serve. */
export function sniffImageType(bytes: Uint8Array): ImageType | undefined {
  for (const [type, signature] of SIGNATURES) {
    if (bytes.length >= signature.length && signature.every((b, i) => b === null || bytes[i] === b)) return type;
  }
  return undefined;
}

function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  return toHex(buf);
}

export const newImageName = (type: ImageType) => `${randomHex(16)}.${type}`;

export interface StoredImage {
  name: string;
  bytes: number;
}

/** Stores one image; the caller has already checked that `bytes` is an image. */
export async function storeImage(
  bucket: R2Bucket,
  bytes: Uint8Array,
  type: ImageType,
  meta: { requestId: string; model: string },
): Promise<StoredImage> {
  const name = newImageName(type);
  await bucket.put(imageKey(name), bytes, {
    httpMetadata: { contentType: CONTENT_TYPES[type] },
    customMetadata: { request_id: meta.requestId, model: meta.model },
  });
  return { name, bytes: bytes.byteLength };
}
