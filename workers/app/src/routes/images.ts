import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { IMAGE_NAME, imageKey } from "../storage/images";

const NOT_FOUND = "No image with that name.";

/**
 * GET /api/images/:name streams a stored image. Names never change content, so the answer is
 * cacheable forever, and a conditional request is answered with 304 without reading the object.
 */
export async function serveImage(c: Context<AppEnv>): Promise<Response> {
  const name = c.req.param("name") ?? "";
  if (!IMAGE_NAME.test(name)) throw new ApiError("not_found", NOT_FOUND);

  const object = await c.env.IMAGES.get(imageKey(name), { onlyIf: c.req.raw.headers });
  if (!object) throw new ApiError("not_found", NOT_FOUND);

  const headers = new Headers();
  object.writeHttpMetadata(headers);
  headers.set("etag", object.httpEtag);
  headers.set("cache-control", "public, max-age=31536000, immutable");
  headers.set("x-content-type-options", "nosniff");
  headers.set("x-request-id", c.get("requestId"));
  // Without a body, R2 answered a precondition: the client's copy is current.
  if (!("body" in object)) return new Response(null, { status: 304, headers });
  headers.set("content-length", String(object.size));
  return new Response(object.body, { headers });
}
