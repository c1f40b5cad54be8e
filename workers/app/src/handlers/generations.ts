/**
 * GET /api/generations/{id} and GET /api/generations/{id}/events: a generation read back by its
 * id, which is the capability (128 random bits). A malformed id is a 404 without waking an object.
 */
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { isGenerationId } from "../generations/id";
import { generationOf } from "../generations/stub";
import { eventsAnswer } from "./generate-stream";

function idOf(c: Context<AppEnv>): string {
  const id = c.req.param("id");
  if (!isGenerationId(id)) throw new ApiError("not_found", "No such generation.");
  return id;
}

/** `{ id, status, created, model, images?, usage?, error?, images_missing? }` (generations/types.ts toView). */
export async function getGeneration(c: Context<AppEnv>): Promise<Response> {
  const view = await generationOf(c.env, idOf(c)).view();
  if (!view) throw new ApiError("not_found", "No such generation (unknown or expired).");
  return c.json(view);
}

/** DELETE: a generation still waiting in the queue is cancelled, free; 409 once it runs or ended. */
export async function cancelGeneration(c: Context<AppEnv>): Promise<Response> {
  const result = await generationOf(c.env, idOf(c)).cancel();
  if (!result) throw new ApiError("not_found", "No such generation (unknown or expired).");
  if (result === "not_cancellable") {
    throw new ApiError("not_cancellable", "Only a generation still waiting in the queue can be cancelled.");
  }
  return c.json(result);
}

/** The generation's events from the start or after `Last-Event-ID`, then live, until it ends. */
export async function generationEvents(c: Context<AppEnv>): Promise<Response> {
  const id = idOf(c);
  return eventsAnswer(c, generationOf(c.env, id), id, c.req.header("last-event-id"));
}
