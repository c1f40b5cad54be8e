/** The app's handle on a generation's object: the typed stub and the accessor. */
import type { AppBindings } from "../env";
import { misconfigured } from "../errors";
import type { WaitResult } from "./record";
import type { GenerationSpec, GenerationView } from "./types";

/**
 * The RPC surface the app uses. Spelled out because the stub's inferred types turn fields of
 * type `unknown` (usage) into `never`.
 */
export interface GenerationStub {
  create(id: string, model: string, spec: GenerationSpec): Promise<{ id: string; status: string }>;
  createAndWait(id: string, model: string, spec: GenerationSpec): Promise<WaitResult | null>;
  wait(): Promise<WaitResult | null>;
  view(): Promise<GenerationView | null>;
  cancel(): Promise<GenerationView | "not_cancellable" | null>;
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

/** The object of generation `id` (`GENERATIONS.idFromName(id)`). */
export function generationOf(env: AppBindings, id: string): GenerationStub {
  if (!env.GENERATIONS) throw misconfigured("GENERATIONS binding missing (durable generations)");
  const ns = env.GENERATIONS as DurableObjectNamespace;
  return ns.get(ns.idFromName(id)) as unknown as GenerationStub;
}

/**
 * The generation's end, waited for on `stub`, or on a fresh stub when that one throws: the object
 * was reset (a deploy, a crash), a stub that threw stays broken, and the fresh instance finds the
 * record and recovers it (an interrupted call ends `generation_interrupted`, never a 500).
 */
export async function waitForEnd(env: AppBindings, id: string, stub: GenerationStub): Promise<WaitResult | null> {
  try {
    return await stub.wait();
  } catch {
    return generationOf(env, id).wait();
  }
}
