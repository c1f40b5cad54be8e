import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AnswerTooLarge, UnreadableAnswer } from "../../../../workers/app/src/openai-answer/failure";
import { readImagesJson } from "../../../../workers/app/src/openai-answer/images-json";

/** A body made of the given byte pieces, as the runtime would deliver them. */
function bodyOf(pieces: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(piece);
      controller.close();
    },
  });
}

/** `bytes` cut at the given positions. */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const points = [...new Set(at.map((n) => n % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    pieces.push(bytes.slice(from, p));
    from = p;
  }
  pieces.push(bytes.slice(from));
  return pieces;
}

const b64 = (bytes: Uint8Array) => (bytes as unknown as { toBase64(): string }).toBase64();
const encode = (text: string) => new TextEncoder().encode(text);

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

/** An answer shaped like OpenAI's, with the given images. */
function answerText(images: Uint8Array[], extra = ""): string {
  const data = images.map((img, i) => `{"b64_json": "${b64(img)}", "revised_prompt": "лиса №${i} \\"в\\" снегу"}`);
  return `{"created":1700000000,"data":[${data.join(",")}],"output_format":"png"${extra},"usage":{"total_tokens":272,"input_tokens_details":{"text_tokens":10}}}`;
}

const read = (pieces: Uint8Array[], hint?: number, max = 64 * 1024 * 1024) => readImagesJson(bodyOf(pieces), hint, max);

describe("readImagesJson", () => {
  it("decodes each image while the rest of the answer stays JSON with placeholders", async () => {
    const images = [randomBytes(3000), randomBytes(1)];
    const text = answerText(images);
    const out = await read([encode(text)], text.length);
    expect(out.images).toEqual(images);
    expect(out.value).toEqual({
      created: 1700000000,
      data: [
        { b64_json: "#0", revised_prompt: 'лиса №0 "в" снегу' },
        { b64_json: "#1", revised_prompt: 'лиса №1 "в" снегу' },
      ],
      output_format: "png",
      usage: { total_tokens: 272, input_tokens_details: { text_tokens: 10 } },
    });
  });

  it("gives the same result whatever way the bytes are split", async () => {
    const images = [randomBytes(40), randomBytes(7)];
    const bytes = encode(answerText(images));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 12 }), async (at) => {
        const out = await read(cut(bytes, at), bytes.length);
        expect(out.images).toEqual(images);
        expect((out.value as { data: Array<{ b64_json: string }> }).data.map((d) => d.b64_json)).toEqual(["#0", "#1"]);
      }),
      { numRuns: 300 },
    );
  });

  it("splits at every single byte of a small answer", async () => {
    const images = [randomBytes(20)];
    const bytes = encode(answerText(images));
    for (let at = 0; at <= bytes.length; at++) {
      const out = await read([bytes.slice(0, at), bytes.slice(at)]);
      expect(out.images).toEqual(images);
    }
  });

  it("grows its buffer when Content-Length was missing or too small", async () => {
    const images = [randomBytes(3 * 1024 * 1024 + 5)];
    const bytes = encode(answerText(images));
    const pieces = cut(
      bytes,
      Array.from({ length: 80 }, (_, i) => i * 65536),
    );
    expect((await read(pieces, 100)).images).toEqual(images);
    expect((await read(pieces)).images).toEqual(images);
  });

  it('reads base64 with "\\/" escapes (as PHP writes it), even split after the backslash', async () => {
    const image = Uint8Array.from([0xff, 0xff, 0xff, 0xfb, 0xef, 0xbe]); // "////++++"
    const escaped = b64(image).replaceAll("/", "\\/");
    const bytes = encode(`{"data":[{"b64_json":"${escaped}"}]}`);
    for (let at = 0; at <= bytes.length; at++) {
      const out = await read([bytes.slice(0, at), bytes.slice(at)]);
      expect(out.images).toEqual([image]);
    }
  });

  it("reads unpadded base64 and whitespace around the key", async () => {
    const image = randomBytes(10); // 10 bytes: 14 characters and "==" padding
    const unpadded = b64(image).replace(/=+$/, "");
    const out = await read([encode(`{ "data" : [ { "b64_json"  :  "${unpadded}" } ] }`)]);
    expect(out.images).toEqual([image]);
  });

  it("leaves other keys and a null b64_json alone", async () => {
    const out = await read([encode('{"data":[{"b64_json":null,"url":"https://x.test/a.png","note":"b64_json"}]}')]);
    expect(out.images).toEqual([]);
    expect(out.value).toEqual({ data: [{ b64_json: null, url: "https://x.test/a.png", note: "b64_json" }] });
  });

  it.each([
    ["text that is not JSON", "<html>Bad gateway</html>"],
    ["an answer cut inside an image", '{"data":[{"b64_json":"iVBORw0KGgo'],
    ["an answer cut inside a string", '{"data":[{"url":"https://x'],
    ["base64 with a character outside the alphabet", '{"data":[{"b64_json":"iVBO*w0K"}]}'],
    ["base64 ending in a lone character", '{"data":[{"b64_json":"iVBORw0KG"}]}'],
    ["an escape other than \\/ inside an image", '{"data":[{"b64_json":"iVBO\\nRw0K"}]}'],
  ])("%s is unreadable", async (_name, text) => {
    await expect(read([encode(text)])).rejects.toBeInstanceOf(UnreadableAnswer);
  });

  it("refuses an answer past the limit, and cancels the body", async () => {
    let cancelled = false;
    let first = true;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(encode(`${first ? '{"data":[{"b64_json":"' : ""}${"A".repeat(4096)}`));
        first = false;
      },
      cancel() {
        cancelled = true;
      },
    });
    await expect(readImagesJson(body, undefined, 64 * 1024)).rejects.toBeInstanceOf(AnswerTooLarge);
    expect(cancelled).toBe(true);
  });

  it("passes a read error on as it is", async () => {
    const failure = new Error("the body broke");
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encode('{"data":[{"b64_json":"iVBO'));
        controller.error(failure);
      },
    });
    await expect(readImagesJson(body, undefined, 1024)).rejects.toBe(failure);
  });
});
