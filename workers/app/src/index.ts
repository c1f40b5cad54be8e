import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { methodNotAllowed } from "hono/method-not-allowed";
import type { AppEnv } from "./env";
import { ApiError, type ErrorCode, errorEnvelope } from "./errors";
import { identifyClient } from "./guard/access";
import { apiCors } from "./guard/cors";
import { clientConfig } from "./handlers/config";
import { generate, validGenerateRequest } from "./handlers/generate";
import { cancelGeneration, generationEvents, getGeneration } from "./handlers/generations";
import { health } from "./handlers/health";
import { serveImage } from "./handlers/images";
import { limitBody, requireJson } from "./middleware/json-body";
import { requestContext } from "./middleware/request-context";

const app = new Hono<AppEnv>();

app.use(requestContext());
app.use(
  methodNotAllowed({
    app,
    onMethodNotAllowed: (_c, methods) => {
      throw new ApiError("method_not_allowed", `Use ${methods.join(", ")}.`, {
        headers: { Allow: methods.join(", ") },
      });
    },
  }),
);

app.use("/api/*", apiCors());
app.post("/api/generate/image", identifyClient(), requireJson(), limitBody(), validGenerateRequest, generate);
app.get("/api/generations/:id", identifyClient(), getGeneration);
app.get("/api/generations/:id/events", identifyClient(), generationEvents);
app.delete("/api/generations/:id", identifyClient(), cancelGeneration);
app.get("/api/images/:name", serveImage);
app.get("/api/health", health);
app.get("/api/config", clientConfig);

// Answered, not thrown: methodNotAllowed() turns a 404 on a known path into a 405.
app.notFound((c) => errorResponse(c, new ApiError("not_found", "No such endpoint.")));

/** Hono's own exceptions (malformed JSON, ...) mapped onto our codes. */
const HTTP_EXCEPTION_CODES: Record<number, ErrorCode> = {
  400: "invalid_request",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  415: "unsupported_media_type",
};

/** The one place an error becomes a response: the envelope, its status, its headers. */
function errorResponse(c: Context<AppEnv>, err: ApiError): Response {
  const requestId = c.get("requestId") ?? "unknown";
  return c.json(errorEnvelope(err, requestId), err.status, { ...err.headers, "X-Request-Id": requestId });
}

app.onError((err, c) => {
  let apiError: ApiError;
  if (err instanceof ApiError) {
    apiError = err;
  } else if (err instanceof HTTPException && HTTP_EXCEPTION_CODES[err.status]) {
    const code = HTTP_EXCEPTION_CODES[err.status] as ErrorCode;
    apiError = new ApiError(code, code === "invalid_request" ? "The request body is not valid JSON." : err.message);
  } else {
    c.get("log")?.error("Unhandled error", { error: err instanceof Error ? err.name : "unknown" });
    apiError = new ApiError("internal_error", "Something went wrong on the server.");
  }
  if (apiError.code === "config_error") c.get("log")?.error("Configuration error", { detail: apiError.message });
  return errorResponse(c, apiError);
});

export { Generation } from "./generations/object";
export { BudgetLedger } from "./guard/budget";
export { IdempotencyStore } from "./guard/idempotency";
export { ClientLimiter } from "./guard/rate-limit";
export { Dispatcher } from "./queue/dispatcher";
export default app;
