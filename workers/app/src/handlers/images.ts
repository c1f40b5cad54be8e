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
  // Without a body, R2 found a precondition that did not hold. Only If-None-Match and
  // If-Modified-Since mean "your copy is current" (304); a failed If-Match or
  // If-Unmodified-Since is 412 (RFC 9110 13.2.2), never a 304 the client would take as a match.
  if (!("body" in object)) {
    const status = failedStateCheck(c.req.raw.headers, object) ? 412 : 304;
    return new Response(null, { status, headers });
  }
  headers.set("content-length", String(object.size));
  return new Response(object.body, { headers });
}

/** Whether If-Match or If-Unmodified-Since (the checks that answer 412) failed for `object`. */
function failedStateCheck(request: Headers, object: R2Object): boolean {
  const ifMatch = request.get("if-match");
  if (ifMatch !== null) {
    const tags = ifMatch.split(",").map((t) => t.trim());
    return !tags.includes("*") && !tags.includes(object.httpEtag);
  }
  const since = Date.parse(request.get("if-unmodified-since") ?? "");
  // HTTP dates have whole seconds.
  return !Number.isNaN(since) && Math.floor(object.uploaded.getTime() / 1000) * 1000 > since;
}
