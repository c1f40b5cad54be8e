/**
 * The shapes of a durable generation: what its Durable Object persists (GenerationRecord) and
 * what clients see (GenerationView, GenerationAnswer). Nothing here is imported from generate/,
 * guard/ or errors.ts: those files are being moved, and these types are the contract between
 * them and the Generation object, so they are spelled out structurally instead.
 */

import type { ReleaseOutcome } from "../queue/rpc-types";
import type { OutcomeRule } from "./outcome";

/** Public status (docs/design/durable-generations.md §4). */
export type GenerationStatus = "queued" | "running" | "succeeded" | "failed";

/**
 * Internal phase, persisted *before* each step so a fresh instance knows what may have happened:
 * `granted` may send (nothing left yet), `sent` is written and synced before the relay call
 * leaves (may be billed), `storing` has its image names written before the R2 puts.
 */
export type Phase = "queued" | "granted" | "sent" | "storing" | "ended";

/** An image of an answer, on our own origin. */
export interface GenerationImage {
  url: string;
  revised_prompt?: string;
}

/** The inner object of the app's error envelope (errors.ts `errorEnvelope(...).error`). */
export interface GenerationError {
  code: string;
  message: string;
  type: string;
  param?: string;
  retry_after?: number;
  request_id: string;
}

/**
 * The validated body of POST /api/generate/image (generate/schema.ts `GenerateRequest` is
 * assignable to it). Stored as validated, so a run after a restart sends exactly what was admitted.
 */
export type StoredRequest = Readonly<{ prompt: string; n?: number } & Record<string, unknown>>;

/** Everything a run needs, fixed at admission; no secrets (the relay token stays in env). */
export interface GenerationSpec {
  request: StoredRequest;
  /** The client key the guards used (rate limits, fairness, idempotency). */
  client: string;
  /** The request id of the POST that created it; every log line of the run carries it. */
  request_id: string;
  /** The app's origin, for image URLs (the object has no incoming request to take it from). */
  origin: string;
  /** What OpenAI is asked: stream only for n = 1 (design §5), with this many previews. */
  upstream: { stream: boolean; partial_images: number };
  /** The idempotency record to settle: the key as sent and the hash of the canonical body. */
  idempotency?: { key: string; body_hash: string };
  /** The budget hold taken at admission and its worst-case estimate (settled per outcome.ts). */
  budget?: { hold_id: string; estimate_usd: number };
}

/** What the Generation object persists; one record per object, deleted at its TTL. */
export interface GenerationRecord {
  id: string;
  status: GenerationStatus;
  phase: Phase;
  /** Unix seconds at creation, as `created` in OpenAI's answers; fixed for the generation's life. */
  created: number;
  /** The model resolved at admission (never absent: OpenAI's default is a retired model). */
  model: string;
  spec: GenerationSpec;
  /**
   * Times the generation entered `running`: a rate-limited call goes back to the queue and is
   * granted again, and every grant is a durable `running` event (event-log.ts numbers them).
   */
  grants: number;
  /** Image names chosen before the R2 puts (phase `storing`), so recovery can look for them. */
  image_names?: string[];
  images?: GenerationImage[];
  usage?: Record<string, unknown>;
  error?: GenerationError;
  /** Images asked for but not returned by OpenAI (design §5): a success with fewer images. */
  images_missing?: number;
  /** The egress route that served the call (`x-egress-route` of the JSON answer). */
  route?: string;
  /**
   * What the end still has to do to the guards (outcome.ts's budget and idempotency actions):
   * set with the end, removed once settleGuards succeeded; recovery retries it until then.
   */
  settle?: Pick<OutcomeRule, "budget" | "idempotency">;
  /**
   * How the granted call went, for the dispatcher's `release`: set with the end (the client is
   * told first), removed once the dispatcher heard it; recovery sends it until then.
   */
  report?: ReleaseOutcome;
  /** Epoch milliseconds. */
  enqueued_at: number;
  granted_at?: number;
  sent_at?: number;
  ended_at?: number;
}

/** A queued generation's place, from the dispatcher; state, not history. */
export interface QueuePosition {
  position: number;
  eta_s: number;
}

/** The synchronous answer of POST /api/generate/image and the data of `completed`. */
export interface GenerationAnswer {
  id: string;
  created: number;
  model: string;
  images: GenerationImage[];
  usage?: Record<string, unknown>;
  images_missing?: number;
}

/** GET /api/generations/{id}. */
export interface GenerationView {
  id: string;
  status: GenerationStatus;
  created: number;
  model: string;
  images?: GenerationImage[];
  usage?: Record<string, unknown>;
  error?: GenerationError;
  queue?: QueuePosition;
  images_missing?: number;
}

/**
 * A succeeded record as the synchronous answer, field for field, so a client polling GET, one
 * reading `completed` and one waiting on the POST all get the same thing.
 */
export function answerOf(record: GenerationRecord): GenerationAnswer {
  return {
    id: record.id,
    created: record.created,
    model: record.model,
    images: record.images ?? [],
    ...(record.usage ? { usage: record.usage } : {}),
    ...(record.images_missing ? { images_missing: record.images_missing } : {}),
  };
}

/**
 * The public view of a record. `queue` is the latest position the object was told (it lives in
 * memory, not in the record) and is shown only while queued. Internal fields (phase, spec,
 * timestamps, image names) never leave the object.
 */
export function toView(record: GenerationRecord, queue?: QueuePosition): GenerationView {
  if (record.status === "succeeded") {
    const { id, ...answer } = answerOf(record);
    return { id, status: "succeeded", ...answer };
  }
  return {
    id: record.id,
    status: record.status,
    created: record.created,
    model: record.model,
    ...(record.error ? { error: record.error } : {}),
    ...(record.status === "queued" && queue ? { queue } : {}),
  };
}
