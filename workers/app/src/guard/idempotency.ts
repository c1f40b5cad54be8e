import { DurableObject } from "cloudflare:workers";
import { sha256Hex } from "../../../shared/sha256";
import type { AppBindings } from "../env";

/** How long an answer is kept for repeats of the same Idempotency-Key. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;

export type BeginResult =
  | { kind: "proceed" }
  | { kind: "join"; generationId: string; at: number }
  | { kind: "replay"; answer: string }
  | { kind: "in_progress" }
  | { kind: "mismatch" };

interface Entry {
  state: "running" | "done";
  bodyHash: string;
  /** The generation this key started: repeats join it, running or ended. */
  generationId?: string;
  /** Entries written before durable generations: the answer as JSON text, exactly as first sent. */
  answer?: string;
  at: number;
}

/**
 * One Idempotency-Key of one client. The first call starts a generation; a repeat with the same
 * body joins that generation (it waits for the same result while it runs, and gets the same
 * answer, the same image URLs, after it succeeded) without another upstream call, and the same
 * key with another body gets 422. Entries are kept 24 hours; an alarm removes them. Entries of
 * the old shape (no generation id) are still replayed, or answered 409 while they ran.
 */
export class IdempotencyStore extends DurableObject<AppBindings> {
  /** Takes the key for `generationId`, or says which generation (or old answer) it belongs to. */
  async begin(bodyHash: string, generationId?: string): Promise<BeginResult> {
    const now = Date.now();
    const entry = await this.ctx.storage.get<Entry>("entry");
    if (entry && now - entry.at < IDEMPOTENCY_TTL_MS) {
      if (entry.bodyHash !== bodyHash) return { kind: "mismatch" };
      if (entry.generationId) return { kind: "join", generationId: entry.generationId, at: entry.at };
      return entry.state === "done" ? { kind: "replay", answer: entry.answer ?? "{}" } : { kind: "in_progress" };
    }
    await this.ctx.storage.put<Entry>("entry", { state: "running", bodyHash, generationId, at: now });
    await this.ctx.storage.setAlarm(now + IDEMPOTENCY_TTL_MS);
    return { kind: "proceed" };
  }

  /** The generation succeeded: repeats get its answer (kept by the generation, not here). */
  async complete(generationId?: string): Promise<void> {
    const entry = await this.ctx.storage.get<Entry>("entry");
    if (!entry || (generationId && entry.generationId !== generationId)) return;
    await this.ctx.storage.put<Entry>("entry", { ...entry, state: "done" });
  }

  /**
   * The call failed: forget the key, so the client may try again with it. With a generation id,
   * only if the key still belongs to that generation (a late release never frees a newer one).
   */
  async release(generationId?: string): Promise<void> {
    if (generationId) {
      const entry = await this.ctx.storage.get<Entry>("entry");
      if (entry?.generationId !== generationId) return;
    }
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
