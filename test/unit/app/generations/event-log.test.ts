import { describe, expect, it } from "vitest";
import {
  durableEvents,
  EventLog,
  formatEvent,
  formatEventId,
  parseLastEventId,
  replayFrom,
} from "../../../../workers/app/src/generations/event-log";
import { answerOf } from "../../../../workers/app/src/generations/types";
import { IMAGE, queuedRecord, USAGE } from "./fixtures";

const ids = (events: Array<{ id: string }>) => events.map((e) => e.id);

describe("parseLastEventId", () => {
  it.each([
    ["3", { durable: 3 }],
    [" 3 ", { durable: 3 }],
    ["1.q3", { durable: 1, ephemeral: { kind: "q", k: 3 } }],
    ["2.p12", { durable: 2, ephemeral: { kind: "p", k: 12 } }],
    ["0", { durable: 0 }],
  ])("reads %j", (header, expected) => {
    expect(parseLastEventId(header)).toEqual(expected);
    expect(formatEventId(expected as never)).toBe(header.trim());
  });

  it.each([null, undefined, "", "abc", "1.x3", "1.q", "-1", "1.5", "3\n4", "1234567890"])(
    "gives up on %j (the client then gets everything)",
    (header) => {
      expect(parseLastEventId(header)).toBeUndefined();
    },
  );
});

describe("formatEvent", () => {
  it("writes id, event and one line of JSON data, line breaks escaped", () => {
    expect(formatEvent({ id: "2.p1", event: "partial", data: { index: 0, note: "a\nb" } })).toBe(
      'id: 2.p1\nevent: partial\ndata: {"index":0,"note":"a\\nb"}\n\n',
    );
  });
});

describe("durableEvents", () => {
  it("a queued record: started only, with the fields existing clients read", () => {
    expect(durableEvents(queuedRecord())).toEqual([
      {
        id: "1",
        seq: 1,
        event: "started",
        data: { id: queuedRecord().id, request_id: "req_abc", model: "gpt-image-1", status: "queued" },
      },
    ]);
  });

  it("succeeded after a requeue: started, running twice, completed with the answer", () => {
    const record = queuedRecord({ status: "succeeded", phase: "ended", grants: 2, images: [IMAGE], usage: USAGE });
    const events = durableEvents(record);
    expect(events.map((e) => [e.id, e.event])).toEqual([
      ["1", "started"],
      ["2", "running"],
      ["3", "running"],
      ["4", "completed"],
    ]);
    expect(events[3]?.data).toEqual(answerOf(record));
  });

  it("cancelled in the queue: started then error, never running", () => {
    const error = { code: "cancelled", message: "m", type: "invalid_request_error", request_id: "req_abc" };
    const events = durableEvents(queuedRecord({ status: "failed", phase: "ended", error }));
    expect(events.map((e) => [e.id, e.event, e.data])).toEqual([
      ["1", "started", expect.anything()],
      ["2", "error", { error }],
    ]);
  });

  it("are the same events the live log appended, so a restart renumbers nothing", () => {
    const record = queuedRecord();
    const log = new EventLog(durableEvents(record));
    log.queued({ position: 2, eta_s: 30 });
    log.append("running", {});
    log.preview({ index: 0, url: "data:image/png;base64,AA" });
    const done = { ...record, status: "succeeded" as const, phase: "ended" as const, grants: 1, images: [IMAGE] };
    log.append("completed", answerOf(done));
    expect(log.replay(null)).toEqual(durableEvents(done));
  });
});

describe("EventLog numbering and replay", () => {
  it("numbers ephemeral events after the last durable one and keeps only the latest state", () => {
    const log = new EventLog(durableEvents(queuedRecord()));
    expect(log.queued({ position: 3, eta_s: 40 }).id).toBe("1.q1");
    expect(log.queued({ position: 2, eta_s: 20 }).id).toBe("1.q2");
    expect(ids(log.replay(null))).toEqual(["1", "1.q2"]);
    expect(log.queuePosition).toEqual({ position: 2, eta_s: 20 });

    expect(log.append("running", {}).id).toBe("2");
    // A queue position means nothing once running.
    expect(ids(log.replay(null))).toEqual(["1", "2"]);
    expect(log.queuePosition).toBeUndefined();

    expect(log.preview({ index: 0, url: "u0" }).id).toBe("2.p1");
    expect(log.preview({ index: 1, url: "u1" }).id).toBe("2.p2");
    expect(log.preview({ index: 0, url: "second image" }, 1).id).toBe("2.p3");
    const replay = log.replay(null);
    expect(ids(replay)).toEqual(["1", "2", "2.p2", "2.p3"]);
    expect(replay[2]?.data).toEqual({ index: 1, url: "u1" });
  });

  it("resumes without duplicates or gaps from every id a client could have seen", () => {
    const log = new EventLog(durableEvents(queuedRecord()));
    log.queued({ position: 1, eta_s: 5 });
    log.append("running", {});
    log.preview({ index: 0, url: "u0" });
    log.preview({ index: 1, url: "u1" });
    expect(ids(log.replay("1"))).toEqual(["2", "2.p2"]);
    expect(ids(log.replay("1.q1"))).toEqual(["2", "2.p2"]);
    // Saw the first preview: the newer one is the state to show.
    expect(ids(log.replay("2.p1"))).toEqual(["2.p2"]);
    // Saw the current state already: nothing to send until something new happens.
    expect(ids(log.replay("2.p2"))).toEqual([]);
    expect(ids(log.replay("2"))).toEqual(["2.p2"]);
    expect(ids(log.replay("garbage"))).toEqual(["1", "2", "2.p2"]);
  });

  it("after the end: the remaining durable events and no ephemeral state", () => {
    const log = new EventLog(durableEvents(queuedRecord()));
    log.append("running", {});
    log.preview({ index: 0, url: "u0" });
    expect(log.ended).toBe(false);
    log.append("error", { error: { code: "upstream_timeout" } });
    expect(log.ended).toBe(true);
    expect(ids(log.replay("2.p1"))).toEqual(["3"]);
    // At or past the final event: the final event again, so a client that reconnects after it
    // (its Last-Event-ID is the final one) ends cleanly instead of reading an empty stream.
    expect(ids(log.replay("3"))).toEqual(["3"]);
    expect(ids(log.replay("9"))).toEqual(["3"]);
  });

  it("replayFrom ignores ephemeral state passed after an ending event", () => {
    const events = durableEvents(queuedRecord({ status: "failed", phase: "ended", grants: 1 }));
    const stale = { id: "2.p1", event: "partial", data: {}, state: "preview:0" };
    expect(ids(replayFrom(events, { previews: [stale] }, undefined))).toEqual(["1", "2", "3"]);
  });
});
