import { DurableObject } from "cloudflare:workers";
import { sha256Hex } from "../../../shared/sha256";
import type { AppBindings } from "../env";

/** How long an answer is kept for repeats of the same Idempotency-Key. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;

export type BeginResult =
  | { kind: "proceed" }
  | { kind: "replay"; answer: string }
  | { kind: "in_progress" }
  | { kind: "mismatch" };

interface Entry {
  state: "running" | "done";
  bodyHash: string;
  /** The answer as JSON text, exactly as first sent. */
  answer?: string;
  at: number;
}

/**
 * One Idempotency-Key of one client. The first call runs; a repeat with the same body gets the
 * stored answer (the same image URLs) without another upstream call, a repeat while it still
 * runs gets 409, and the same key with another body gets 422. Answers are kept 24 hours; an
 * alarm removes them.
 */
export class IdempotencyStore extends DurableObject<AppBindings> {
  async begin(bodyHash: string): Promise<BeginResult> {
    const now = Date.now();
    const entry = await this.ctx.storage.get<Entry>("entry");
    if (entry && now - entry.at < IDEMPOTENCY_TTL_MS) {
      if (entry.bodyHash !== bodyHash) return { kind: "mismatch" };
      return entry.state === "done" ? { kind: "replay", answer: entry.answer ?? "{}" } : { kind: "in_progress" };
    }
    await this.ctx.storage.put<Entry>("entry", { state: "running", bodyHash, at: now });
    await this.ctx.storage.setAlarm(now + IDEMPOTENCY_TTL_MS);
    return { kind: "proceed" };
  }

  /** Keeps the answer for repeats. */
  async complete(answer: string): Promise<void> {
    const entry = await this.ctx.storage.get<Entry>("entry");
    if (!entry) return;
    await this.ctx.storage.put<Entry>("entry", { ...entry, state: "done", answer });
  }

  /** The call failed: forget the key, so the client may try again with it. */
  async release(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }

  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }
}

export function idempotencyFor(env: AppBindings, client: string, key: string): DurableObjectStub<IdempotencyStore> {
  const ns = env.IDEMPOTENCY as DurableObjectNamespace<IdempotencyStore>;
  return ns.get(ns.idFromName(`${client}\n${key}`));
}

/** SHA-256 of the raw body, hex: "the same request" means the same bytes. */
export const hashBody = sha256Hex;
