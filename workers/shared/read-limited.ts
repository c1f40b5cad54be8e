/**
 * Reads a body as text, but gives up past `maxBytes`: used only for upstream error bodies, which
 * are small JSON documents; anything bigger is not an error we can explain and is not buffered.
 * Returns null when the body was larger than the limit (the rest is cancelled, not read).
 */
export async function readTextLimited(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<string | null> {
  if (!body) return "";
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let size = 0;
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return null;
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}
