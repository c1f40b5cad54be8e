/**
 * Generation ids. An id is the capability to read a generation (GET, events): whoever knows it
 * may see the images, so it carries 128 random bits like an image name and is never derived
 * from anything a client could guess (time, a counter, the request).
 */

/** The public id pattern: anything else is a 404 without waking a Durable Object. */
export const GENERATION_ID = /^gen_[0-9a-f]{32}$/;

/** A fresh id: `gen_` + 32 lowercase hex digits from the platform's CSPRNG. */
export function newGenerationId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `gen_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Whether `value` has the shape of an id (not whether such a generation exists). */
export function isGenerationId(value: unknown): value is string {
  return typeof value === "string" && GENERATION_ID.test(value);
}
