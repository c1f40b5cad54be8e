/**
 * Base64 decoded as it arrives, into one buffer that grows when it must: the runtime's
 * `setFromBase64`, fed piece by piece, with a partial group carried to the next piece.
 */
import { UnreadableAnswer } from "./failure";

type SetFromBase64 = (
  text: string,
  options?: { lastChunkHandling?: "loose" | "strict" | "stop-before-partial" },
) => { read: number; written: number };

/** Decodes one base64 value arriving in pieces into a buffer that grows when it must. */
export class Base64Sink {
  private buffer: Uint8Array;
  private written = 0;
  private carry = "";

  constructor(capacity: number) {
    this.buffer = new Uint8Array(Math.max(capacity, 1024));
  }

  write(text: string, last: boolean): void {
    let input = this.carry + text;
    for (;;) {
      const room = this.buffer.subarray(this.written);
      const setFromBase64 = (room as unknown as { setFromBase64: SetFromBase64 }).setFromBase64;
      let result: { read: number; written: number };
      try {
        result = setFromBase64.call(room, input, { lastChunkHandling: last ? "loose" : "stop-before-partial" });
      } catch {
        throw new UnreadableAnswer("an image's base64 could not be decoded");
      }
      this.written += result.written;
      input = input.slice(result.read);
      if (input.length === 0) break;
      // A group of 4 characters needs at most 3 bytes: with that much room left, the decoder
      // stopped before a partial group, which waits for the next piece (or is an error at the end).
      if (room.length - result.written >= 3) {
        if (last) throw new UnreadableAnswer("an image's base64 ended with a partial group");
        break;
      }
      const grown = new Uint8Array(this.buffer.length * 2);
      grown.set(this.buffer.subarray(0, this.written));
      this.buffer = grown;
    }
    this.carry = input;
  }

  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.written);
  }
}
