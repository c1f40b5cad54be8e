/**
 * Just enough HTTP/1.1 (RFC 9112) to make one call over a raw byte stream, such as a CONNECT
 * tunnel: a request head to write, and a response reader that streams the body whatever its
 * framing (content-length, chunked, or until the connection closes). Bytes may arrive split
 * anywhere; nothing is buffered beyond a head or a chunk-size line.
 */

import { type ByteSource, Http1Error } from "./byte-source";

const CRLF = new Uint8Array([13, 10]);
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_LINE_BYTES = 4096;
const READ_SIZE = 64 * 1024;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A field value or request target: printable ASCII and tabs, so never CR, LF or NUL. */
const FIELD = /^[\x20-\x7e\t]*$/;

const latin1 = (bytes: Uint8Array) => String.fromCharCode(...bytes);

export interface ResponseHead {
  status: number;
  statusText: string;
  headers: Headers;
}

/** Parses a status line and header fields (the bytes up to and including the blank line). */
export function parseResponseHead(bytes: Uint8Array): ResponseHead {
  // Decoded in pieces: spreading a large head into one call could overflow the argument limit.
  let text = "";
  for (let i = 0; i < bytes.byteLength; i += 4096) text += latin1(bytes.subarray(i, i + 4096));
  const lines = text.slice(0, -4).split("\r\n");
  const status = /^HTTP\/1\.[01] ([1-9]\d\d)(?: ([^\r\n]*))?$/.exec(lines[0] ?? "");
  if (!status) throw new Http1Error("the answer does not start with an HTTP/1.x status line");
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    // A leading space would be obsolete line folding, which RFC 9112 lets a client refuse.
    if (colon <= 0 || !TOKEN.test(name)) throw new Http1Error("the answer has a malformed header line");
    try {
      headers.append(name, line.slice(colon + 1).trim());
    } catch {
      throw new Http1Error("the answer has a header value with forbidden characters");
    }
  }
  return { status: Number(status[1]), statusText: status[2] ?? "", headers };
}

/** How the body of an answer is delimited (RFC 9112 section 6.3). */
export type Framing = { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" } | { kind: "close" };

export function bodyFraming(method: string, head: ResponseHead): Framing {
  if (method === "HEAD" || head.status === 204 || head.status === 304 || head.status < 200) return { kind: "none" };
  const te = head.headers.get("transfer-encoding");
  if (te !== null) {
    // Transfer-Encoding wins over Content-Length; the connection is closed after this answer.
    const codings = te.split(",").map((c) => c.trim().toLowerCase());
    return codings.at(-1) === "chunked" ? { kind: "chunked" } : { kind: "close" };
  }
  const cl = head.headers.get("content-length");
  if (cl === null) return { kind: "close" };
  const values = new Set(cl.split(",").map((v) => v.trim()));
  const [only] = values;
  if (values.size !== 1 || only === undefined || !/^\d{1,15}$/.test(only)) {
    throw new Http1Error("the answer has an invalid Content-Length");
  }
  return { kind: "length", length: Number(only) };
}

/** Reads the next answer's head, skipping interim (1xx) answers. Undefined if the peer closed first. */
export async function readResponseHead(source: ByteSource): Promise<ResponseHead | undefined> {
  for (let interim = false; ; interim = true) {
    const bytes = await source.readThrough(new Uint8Array([13, 10, 13, 10]), MAX_HEAD_BYTES, "the answer's head");
    if (bytes === undefined) {
      if (interim) throw new Http1Error("the connection closed after an interim (1xx) answer");
      return undefined;
    }
    const head = parseResponseHead(bytes);
    if (head.status >= 200 || head.status === 101) return head;
  }
}

/** The body's bytes, as they arrive. Throws Http1Error when the body is cut short or malformed. */
export async function* readBody(source: ByteSource, framing: Framing): AsyncGenerator<Uint8Array> {
  if (framing.kind === "length") yield* fixedLength(source, framing.length);
  else if (framing.kind === "chunked") yield* chunked(source);
  else if (framing.kind === "close") {
    for (;;) {
      const chunk = await source.readSome(READ_SIZE);
      if (chunk === undefined) return;
      yield chunk;
    }
  }
}

async function* fixedLength(source: ByteSource, length: number): AsyncGenerator<Uint8Array> {
  let left = length;
  while (left > 0) {
    const chunk = await source.readSome(Math.min(left, READ_SIZE));
    if (chunk === undefined) throw new Http1Error(`the body ended after ${length - left} of ${length} bytes`);
    left -= chunk.byteLength;
    yield chunk;
  }
}

async function* chunked(source: ByteSource): AsyncGenerator<Uint8Array> {
  for (;;) {
    const line = await source.readThrough(CRLF, MAX_LINE_BYTES, "a chunk size line");
    if (line === undefined) throw new Http1Error("the chunked body ended without its last chunk");
    // Chunk extensions (";name=value") are allowed and ignored.
    const size = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?\r\n$/.exec(latin1(line));
    if (!size) throw new Http1Error("the chunked body has a malformed chunk size");
    const length = Number.parseInt(size[1] as string, 16);
    if (length === 0) break;
    yield* fixedLength(source, length);
    const end = await source.readThrough(CRLF, 2, "a chunk's end");
    if (end?.byteLength !== 2) throw new Http1Error("a chunk is not followed by CRLF");
  }
  // Trailer fields, then the blank line that ends the body.
  for (;;) {
    const line = await source.readThrough(CRLF, MAX_LINE_BYTES, "the trailer");
    if (line === undefined) throw new Http1Error("the chunked body ended inside its trailer");
    if (line.byteLength === 2) return;
  }
}

/** The request line and header fields, ready to write. Refuses anything but printable ASCII. */
export function requestHead(method: string, target: string, headers: Iterable<[string, string]>): Uint8Array {
  if (!TOKEN.test(method) || !FIELD.test(target) || target.includes(" ")) {
    throw new Http1Error("invalid request line");
  }
  const lines = [`${method} ${target} HTTP/1.1`];
  for (const [name, value] of headers) {
    if (!TOKEN.test(name) || !FIELD.test(value)) throw new Http1Error(`invalid header ${TOKEN.test(name) ? name : ""}`);
    lines.push(`${name}: ${value}`);
  }
  return new TextEncoder().encode(`${lines.join("\r\n")}\r\n\r\n`);
}

/** One chunk of a chunked request body. */
export function encodeChunk(bytes: Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(`${bytes.byteLength.toString(16)}\r\n`);
  const out = new Uint8Array(prefix.byteLength + bytes.byteLength + 2);
  out.set(prefix);
  out.set(bytes, prefix.byteLength);
  out.set(CRLF, prefix.byteLength + bytes.byteLength);
  return out;
}

/** The chunk that ends a chunked request body (no trailer). */
export const LAST_CHUNK = new TextEncoder().encode("0\r\n\r\n");
