/**
 * One run of a generation inside its object: the relay call through today's runJob, with the
 * object's own deadline (never a client's signal: a client that leaves does not stop it), and
 * the phase persisted before each step so a fresh instance knows what may have happened
 * (`sent` before the call leaves, `storing` before the R2 puts). Ends in an outcome for
 * outcome.ts, never in a throw.
 */
import { createLogger, type Logger } from "../../../shared/log";
import type { AppConfig } from "../config";
import { EgressFailure } from "../egress/types";
import type { AppBindings } from "../env";
import { ApiError } from "../errors";
import { publicError } from "../failures/public";
import type { Job } from "../generate/job";
import { runJob } from "../generate/run";
import type { GenerateRequest } from "../generate/schema";
import type { PartialImage } from "../openai-answer/read-answer";
import { appRedactor } from "../secrets";
import { failureOutcome, type Outcome } from "./outcome";
import type { GenerationAnswer, GenerationRecord, Phase } from "./types";

/** What the object lends a run: its record's phase writes, the preview channel, the route. */
export interface RunHost {
  env: AppBindings;
  config: AppConfig;
  record: GenerationRecord;
  /** Persists the phase (and the fields set with it) durably before the step that follows. */
  enter(phase: Phase): Promise<void>;
  preview(partial: PartialImage): void;
  /** Hears the status and headers of OpenAI's answer, for the fair queue's release. */
  answered?(status: number, headers: Headers): void;
}

/** How the run ended. */
export type RunResult =
  | { outcome: "succeeded"; answer: GenerationAnswer; route?: string }
  | { outcome: Exclude<Outcome, "succeeded">; error: ApiError; route?: string };

/** The logger of a generation's lines: its request id and generation id on each. */
export function generationLog(env: AppBindings, record: GenerationRecord): Logger {
  return createLogger("app", { request_id: record.spec.request_id, generation_id: record.id }, appRedactor(env)).with({
    model: record.model,
  });
}

/** The job runJob expects, rebuilt from what was fixed at admission. */
function jobOf(host: RunHost, log: Logger): Job {
  const { record, config } = host;
  return {
    model: record.model,
    requestId: record.spec.request_id,
    config,
    log,
    upstreamStream: record.spec.upstream.stream,
    partialImages: record.spec.upstream.partial_images,
  };
}

/** Runs the call, reads and stores the answer; the phase is `sent` before anything leaves. */
export async function runGeneration(host: RunHost): Promise<RunResult> {
  const { record, config } = host;
  const log = generationLog(host.env, record);
  const job = jobOf(host, log);
  const timeout = AbortSignal.timeout(config.upstreamTimeoutMs);
  let route: string | undefined;
  let answerStatus: number | undefined;
  await host.enter("sent");
  try {
    const place = {
      env: host.env,
      origin: record.spec.origin,
      // Under the fair queue a 429 goes back to the dispatcher instead of being waited out here.
      rateLimitRetries: 0,
      onAnswer: (status: number, headers: Headers) => {
        answerStatus = status;
        host.answered?.(status, headers);
      },
      onRoute: (r: string) => {
        route = r;
      },
      // The image names' random parts go with `storing`, so recovery can look for them.
      onStoring: (stems: string[]) => {
        record.image_names = stems;
        return host.enter("storing");
      },
    };
    const req = record.spec.request as GenerateRequest;
    const answer = await runJob(place, job, req, timeout, async (p) => host.preview(p));
    const asked = req.n ?? 1;
    const missing = Math.max(0, asked - answer.images.length);
    if (missing > 0) log.warn("OpenAI returned fewer images than asked", { asked, images: answer.images.length });
    return {
      outcome: "succeeded",
      answer: { ...answer, id: record.id, ...(missing > 0 ? { images_missing: missing } : {}) },
      route,
    };
  } catch (err) {
    const error = publicError(err, timeout.aborted, log, config.upstreamTimeoutMs);
    log.warn("Generation failed", { code: error.code });
    const sent = !(err instanceof EgressFailure && !err.mayBeBilled);
    return { outcome: failureOutcome({ sent, answerStatus }), error, route };
  }
}

/** runGeneration never throws; this is the settings (config_error) or a bug, before or after sending. */
export function unexpectedFailure(env: AppBindings, record: GenerationRecord, err: unknown): RunResult {
  const sent = record.phase === "sent" || record.phase === "storing";
  const error = err instanceof ApiError ? err : new ApiError("internal_error", "The generation failed.");
  generationLog(env, record).error("Generation failed unexpectedly", {
    error: err instanceof Error ? err.name : "unknown",
  });
  return { outcome: sent ? "failed_after_send" : "failed_before_send", error };
}
