/**
 * The byte level under the HTTP/1.1 reader (http1.ts): a look-ahead buffer over the socket's
 * chunks, and the one error class for a malformed or cut-off answer.
 */

/** A malformed or cut-off answer. The message is ours, never the peer's bytes. */
export class Http1Error extends Error {
  override name = "Http1Error";
}

/** Reads from a chunk source with a small look-ahead buffer. */
export class ByteSource {
  private buffer: Uint8Array = new Uint8Array(0);
  private ended = false;

  constructor(private readonly next: () => Promise<Uint8Array | undefined>) {}

  static fromReader(reader: ReadableStreamDefaultReader<Uint8Array>): ByteSource {
    return new ByteSource(async () => {
      const { done, value } = await reader.read();
      return done ? undefined : value;
    });
  }

  /** Bytes read from the source but not yet handed out. */
  get buffered(): number {
    return this.buffer.byteLength;
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const chunk = await this.next();
    if (chunk === undefined) {
      this.ended = true;
      return false;
    }
    if (this.buffer.byteLength === 0) this.buffer = chunk;
    else {
      const joined = new Uint8Array(this.buffer.byteLength + chunk.byteLength);
      joined.set(this.buffer);
      joined.set(chunk, this.buffer.byteLength);
      this.buffer = joined;
    }
    return true;
  }

  /**
   * Everything up to and including `delimiter`; undefined when the source ends before any byte.
   * Throws when the source ends part-way or `max` bytes pass without the delimiter.
   */
  async readThrough(delimiter: Uint8Array, max: number, what: string): Promise<Uint8Array | undefined> {
    let from = 0;
    for (;;) {
      const at = indexOf(this.buffer, delimiter, from);
      if (at >= 0) {
        const end = at + delimiter.byteLength;
        const out = this.buffer.slice(0, end);
        this.buffer = this.buffer.subarray(end);
        return out;
      }
      if (this.buffer.byteLength > max) throw new Http1Error(`${what} is longer than ${max} bytes`);
      from = Math.max(0, this.buffer.byteLength - delimiter.byteLength + 1);
      if (!(await this.fill())) {
        if (this.buffer.byteLength === 0) return undefined;
        throw new Http1Error(`the connection closed in the middle of ${what}`);
      }
    }
  }

  /** Up to `max` bytes (at least one), or undefined at the end of the source. */
  async readSome(max: number): Promise<Uint8Array | undefined> {
    if (this.buffer.byteLength === 0 && !(await this.fill())) return undefined;
    const out = this.buffer.subarray(0, max);
    this.buffer = this.buffer.subarray(out.byteLength);
    return out;
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i <= haystack.byteLength - needle.byteLength; i++) {
    for (let j = 0; j < needle.byteLength; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
