import { describe, expect, it } from "vitest";
import { answerOf, toView } from "../../../../workers/app/src/generations/types";
import { IMAGE, queuedRecord, USAGE } from "./fixtures";

describe("toView", () => {
  it("a queued record shows its place in line, and nothing internal", () => {
    const view = toView(queuedRecord(), { position: 3, eta_s: 40 });
    expect(view).toEqual({
      id: queuedRecord().id,
      status: "queued",
      created: 1_790_000_000,
      model: "gpt-image-1",
      queue: { position: 3, eta_s: 40 },
    });
    expect(JSON.stringify(view)).not.toContain("hold_1");
    expect(JSON.stringify(view)).not.toContain("click-1");
  });

  it("a running record shows no queue position even if one is still known", () => {
    const view = toView(queuedRecord({ status: "running", phase: "sent", grants: 1 }), { position: 1, eta_s: 2 });
    expect(view).toEqual({ id: queuedRecord().id, status: "running", created: 1_790_000_000, model: "gpt-image-1" });
  });

  it("a succeeded record has exactly the synchronous answer's fields plus status", () => {
    const record = queuedRecord({ status: "succeeded", phase: "ended", grants: 1, images: [IMAGE], usage: USAGE });
    expect(toView(record)).toEqual({ status: "succeeded", ...answerOf(record) });
    expect(answerOf(record)).toEqual({
      id: record.id,
      created: 1_790_000_000,
      model: "gpt-image-1",
      images: [IMAGE],
      usage: USAGE,
    });
    expect(Object.keys(toView(record))).toEqual(["id", "status", "created", "model", "images", "usage"]);
  });

  it("a success with fewer images than asked says how many are missing", () => {
    const record = queuedRecord({ status: "succeeded", phase: "ended", images: [IMAGE, IMAGE], images_missing: 1 });
    expect(toView(record)).toMatchObject({ status: "succeeded", images: [IMAGE, IMAGE], images_missing: 1 });
  });

  it("a failed record carries its error envelope", () => {
    const error = { code: "generation_interrupted", message: "m", type: "upstream_error", request_id: "req_abc" };
    const view = toView(queuedRecord({ status: "failed", phase: "ended", error }));
    expect(view).toEqual({
      id: queuedRecord().id,
      status: "failed",
      created: 1_790_000_000,
      model: "gpt-image-1",
      error,
    });
  });
});
