/**
 * A tiny PNG encoder, so the stand-in answers with real images without an image library:
 * truecolour, 8 bits, one IDAT chunk.
 */
import { randomFillSync } from "node:crypto";
import { deflateSync } from "node:zlib";

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of buf) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

function encode(width: number, height: number, raw: Buffer, level: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/**
 * A placeholder picture: diagonal stripes in a colour taken from `seed` (the prompt), so two
 * prompts give visibly different images and a stage (partial 0, 1, final) can be told apart.
 */
export function placeholderPng(width: number, height: number, seed: string, stage = 1): Buffer {
  let h = 2166136261;
  for (const ch of seed) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const [r, g, b] = [h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff];
  const stride = width * 3 + 1;
  const raw = Buffer.alloc(stride * height);
  const shade = Math.min(1, 0.35 + 0.3 * stage);
  for (let y = 0; y < height; y++) {
    raw[y * stride] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const stripe = Math.floor((x + y) / 48) % 2 === 0 ? 1 : 0.55;
      const o = y * stride + 1 + x * 3;
      raw[o] = Math.round(r * stripe * shade);
      raw[o + 1] = Math.round(g * stripe * shade);
      raw[o + 2] = Math.round(b * stripe * shade);
    }
  }
  return encode(width, height, raw, 6);
}

/** A PNG of about `bytes` bytes (random pixels, stored uncompressed): for large-answer tests. */
export function largePng(bytes: number): Buffer {
  const width = 1024;
  const stride = width * 3 + 1;
  const height = Math.max(1, Math.ceil(bytes / stride));
  const raw = randomFillSync(Buffer.alloc(stride * height));
  for (let y = 0; y < height; y++) raw[y * stride] = 0;
  return encode(width, height, raw, 0);
}
