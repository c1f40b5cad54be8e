/**
 * The tunnel's HTTP/1.1 reader against answers split at every byte boundary: whatever the
 * network does to the bytes, the head and body come out the same; cut short anywhere, a
 * length-delimited or chunked body is an error, never a silently shorter body.
 */
import { describe, expect, it } from "vitest";
import { ByteSource, Http1Error } from "../../../../workers/app/src/egress/byte-source";
import {
  bodyFraming,
  encodeChunk,
  LAST_CHUNK,
  readBody,
  readResponseHead,
  requestHead,
} from "../../../../workers/app/src/egress/http1";
import { random } from "../../../helpers/random";

const enc = new TextEncoder();

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

interface Case {
  label: string;
  bytes: Uint8Array;
  body: Uint8Array;
  /** Whether a cut anywhere must be detected (false for close-delimited bodies). */
  delimited: boolean;
}

/** Answers with random bodies (every byte value), in each framing, with the usual extras. */
function cases(seed: number, count: number): Case[] {
  const next = random(seed);
  const int = (n: number) => Math.floor(next() * n);
  const out: Case[] = [];
  for (let i = 0; i < count; i++) {
    const body = new Uint8Array(int(200));
    for (let j = 0; j < body.length; j++) body[j] = int(256);
    // An interim answer first, sometimes: it must be skipped.
    const interim = int(3) === 0 ? "HTTP/1.1 100 Continue\r\n\r\n" : "";
    const common = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: req_1\r\n";

    out.push({
      label: `content-length #${i}`,
      bytes: concat([enc.encode(`${interim}${common}Content-Length: ${body.length}\r\n\r\n`), body]),
      body,
      delimited: true,
    });

    const parts: Uint8Array[] = [enc.encode(`${interim}${common}Transfer-Encoding: chunked\r\n\r\n`)];
    for (let at = 0; at < body.length; ) {
      const size = 1 + int(40);
      const chunk = encodeChunk(body.subarray(at, at + size));
      // Upper-case hex and chunk extensions are both legal.
      const text = new TextDecoder("latin1").decode(chunk.subarray(0, chunk.indexOf(13)));
      const sizeLine = `${int(2) ? text.toUpperCase() : text}${int(3) === 0 ? ";ext=1" : ""}\r\n`;
      parts.push(enc.encode(sizeLine), chunk.subarray(chunk.indexOf(10) + 1));
      at += size;
    }
    parts.push(int(3) === 0 ? enc.encode("0\r\nX-Trailer: yes\r\n\r\n") : LAST_CHUNK);
    out.push({ label: `chunked #${i}`, bytes: concat(parts), body, delimited: true });

    out.push({
      label: `close-delimited #${i}`,
      bytes: concat([enc.encode(`${interim}HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n`), body]),
      body,
      delimited: false,
    });
  }
  return out;
}

/** Reads one answer from the given pieces, as they would arrive from a socket. */
async function read(pieces: Uint8Array[]) {
  let i = 0;
  const source = new ByteSource(async () => pieces[i++]);
  const head = await readResponseHead(source);
  if (!head) return undefined;
  const body: Uint8Array[] = [];
  for await (const chunk of readBody(source, bodyFraming("POST", head))) body.push(chunk);
  return { head, body: concat(body) };
}

describe("HTTP/1.1 answer reader", () => {
  const all = cases(20261126, 12);

  it.each(all.map((c) => [c.label, c] as const))("%s: same head and body for every split point", async (_l, c) => {
    for (let cut = 0; cut <= c.bytes.length; cut++) {
      const answer = await read([c.bytes.subarray(0, cut), c.bytes.subarray(cut)]);
      expect(answer?.head.status, `cut at ${cut}`).toBe(200);
      expect(answer?.body, `cut at ${cut}`).toEqual(c.body);
    }
    const bytewise = await read([...c.bytes].map((b) => new Uint8Array([b])));
    expect(bytewise?.body).toEqual(c.body);
  });

  it.each(all.map((c) => [c.label, c] as const))("%s: random three-way splits", async (_l, c) => {
    const next = random(c.bytes.length);
    for (let n = 0; n < 50; n++) {
      const [a, b] = [Math.floor(next() * c.bytes.length), Math.floor(next() * c.bytes.length)].sort((x, y) => x - y);
      const answer = await read([c.bytes.subarray(0, a), c.bytes.subarray(a, b), c.bytes.subarray(b)]);
      expect(answer?.body).toEqual(c.body);
    }
  });

  it.each(all.filter((c) => c.delimited).map((c) => [c.label, c] as const))(
    "%s: cut short at any byte, it is an error (never a shorter body)",
    async (_l, c) => {
      for (let end = 1; end < c.bytes.length; end++) {
        await expect(read([c.bytes.subarray(0, end)]), `ends at ${end}`).rejects.toBeInstanceOf(Http1Error);
      }
      expect(await read([])).toBeUndefined();
    },
  );

  it("keeps the headers, repeated ones included", async () => {
    const answer = await read([
      enc.encode("HTTP/1.1 429 Too Many\r\nRetry-After: 3\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 0\r\n\r\n"),
    ]);
    expect(answer?.head.status).toBe(429);
    expect(answer?.head.statusText).toBe("Too Many");
    expect(answer?.head.headers.get("retry-after")).toBe("3");
    expect(answer?.head.headers.get("x-a")).toBe("1, 2");
  });

  it("does not read past a Content-Length body", async () => {
    let i = 0;
    const pieces = [enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA")];
    const source = new ByteSource(async () => pieces[i++]);
    const head = await readResponseHead(source);
    const body: Uint8Array[] = [];
    for await (const c of readBody(source, bodyFraming("POST", head as never))) body.push(c);
    expect(new TextDecoder().decode(concat(body))).toBe("ok");
    expect(source.buffered).toBe(5);
  });

  it("204, 304 and HEAD have no body", async () => {
    for (const [status, method] of [
      [204, "POST"],
      [304, "GET"],
      [200, "HEAD"],
    ] as const) {
      const source = new ByteSource(async () => undefined);
      const head = { status, statusText: "", headers: new Headers({ "content-length": "10" }) };
      expect(bodyFraming(method, head)).toEqual({ kind: "none" });
      expect(await readBody(source, bodyFraming(method, head)).next()).toEqual({ done: true, value: undefined });
    }
  });

  it.each([
    ["no status line", "hello\r\n\r\n"],
    ["HTTP/2 status line", "HTTP/2 200\r\n\r\n"],
    ["obsolete line folding", "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n"],
    ["header without a name", "HTTP/1.1 200 OK\r\n: x\r\n\r\n"],
    ["differing Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx"],
    ["a negative Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"],
    ["a bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"],
    ["a chunk without its CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n"],
  ])("refuses %s", async (_label, text) => {
    await expect(read([enc.encode(text)])).rejects.toBeInstanceOf(Http1Error);
  });

  it("refuses a head that never ends", async () => {
    const endless = enc.encode(`HTTP/1.1 200 OK\r\nX-Pad: ${"a".repeat(70 * 1024)}`);
    await expect(read([endless, new Uint8Array(1)])).rejects.toThrow(/longer than/);
  });
});

describe("HTTP/1.1 request writer", () => {
  it("writes the request line and headers", () => {
    const head = requestHead("CONNECT", "api.openai.com:443", [["Host", "api.openai.com:443"]]);
    expect(new TextDecoder().decode(head)).toBe(
      "CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n",
    );
  });

  it.each([
    ["CR LF in a value", [["X-A", "1\r\nX-Injected: 2"]]],
    ["a NUL in a value", [["X-A", "1\u00002"]]],
    ["a bad name", [["X A", "1"]]],
  ] as const)("refuses %s", (_label, headers) => {
    expect(() => requestHead("GET", "/", headers as unknown as Array<[string, string]>)).toThrow(Http1Error);
  });

  it("refuses a target with a space or CRLF", () => {
    expect(() => requestHead("GET", "/a b", [])).toThrow(Http1Error);
    expect(() => requestHead("GET", "/a\r\n", [])).toThrow(Http1Error);
  });

  it("chunks round-trip through the reader", async () => {
    const body = enc.encode("streamed request body");
    const bytes = concat([
      enc.encode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
      encodeChunk(body.subarray(0, 5)),
      encodeChunk(body.subarray(5)),
      LAST_CHUNK,
    ]);
    expect((await read([bytes]))?.body).toEqual(body);
  });
});
