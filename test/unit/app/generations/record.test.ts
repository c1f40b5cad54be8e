import { describe, expect, it } from "vitest";
import { OUTCOMES } from "../../../../workers/app/src/generations/outcome";
import { endRecord } from "../../../../workers/app/src/generations/record";
import { answerOf, toView } from "../../../../workers/app/src/generations/types";
import { IMAGE, queuedRecord, USAGE } from "./fixtures";

describe("endRecord", () => {
  it("keeps `created` from creation: the running and the succeeded views agree", () => {
    const record = queuedRecord({ status: "running", phase: "sent" });
    const running = toView(record).created;
    const answer = { id: record.id, created: running + 3, model: "gpt-image-1", images: [IMAGE], usage: USAGE };
    endRecord(record, OUTCOMES.succeeded, { answer });
    expect(toView(record)).toMatchObject({ status: "succeeded", created: running, images: [IMAGE] });
    expect(answerOf(record).created).toBe(running);
  });
});
