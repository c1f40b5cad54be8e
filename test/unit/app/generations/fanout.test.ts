import { describe, expect, it } from "vitest";
import { durableEvents, EventLog, type LogEvent } from "../../../../workers/app/src/generations/event-log";
import { Fanout } from "../../../../workers/app/src/generations/fanout";
import { queuedRecord } from "./fixtures";

/** Reads an SSE body chunk by chunk; `ids` are the `id:` lines seen so far, in order. */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const state = { text: "", chunks: 0, done: false };
  const ids = () => [...state.text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]);
  return {
    state,
    ids,
    /** Reads until `n` events with an id have arrived (or the stream ends). */
    async untilEvents(n: number) {
      while (ids().length < n && !state.done) await this.one();
      return ids();
    },
    async one() {
      const { value, done } = await reader.read();
      if (done) state.done = true;
      else {
        state.chunks++;
        state.text += decoder.decode(value);
      }
    },
    async toEnd() {
      while (!state.done) await this.one();
      return ids();
    },
    cancel: () => reader.cancel(),
  };
}

/** A generation that has started, with a fan-out whose heartbeats are far apart unless asked. */
function setup(heartbeatMs = 60_000) {
  const log = new EventLog(durableEvents(queuedRecord()));
  const fanout = new Fanout(log, { heartbeatMs });
  const emit = (event: LogEvent) => {
    fanout.publish(event);
    return event;
  };
  return { log, fanout, emit };
}

describe("Fanout", () => {
  it("replays what happened, then live events in order, then ends after the final one", async () => {
    const { log, fanout, emit } = setup();
    emit(log.queued({ position: 2, eta_s: 20 }));
    const client = sseReader(fanout.subscribe(null));
    expect(await client.untilEvents(2)).toEqual(["1", "1.q1"]);
    emit(log.queued({ position: 1, eta_s: 5 }));
    await client.untilEvents(3);
    emit(log.append("running", {}));
    await client.untilEvents(4);
    emit(log.preview({ index: 0, url: "data:image/png;base64,AA" }));
    await client.untilEvents(5);
    emit(log.append("completed", { id: "gen", images: [] }));
    fanout.closeAll();
    expect(await client.toEnd()).toEqual(["1", "1.q1", "1.q2", "2", "2.p1", "3"]);
    // One event, one chunk: no event is split across chunks or merged with another.
    expect(client.state.chunks).toBe(6);
    expect(client.state.text).toContain(
      'id: 2.p1\nevent: partial\ndata: {"index":0,"url":"data:image/png;base64,AA"}\n\n',
    );
    expect(fanout.size).toBe(0);
  });

  it("a client that hangs up mid-stream changes nothing for the others and is dropped", async () => {
    const { log, fanout, emit } = setup();
    const leaving = sseReader(fanout.subscribe(null));
    const staying = sseReader(fanout.subscribe(null));
    const stalled = sseReader(fanout.subscribe(null));
    await leaving.untilEvents(1);
    await leaving.cancel();
    emit(log.append("running", {}));
    const expected = ["1", "2"];
    await staying.untilEvents(2);
    for (let i = 1; i <= 5; i++) {
      emit(log.preview({ index: i, url: `u${i}` }));
      expected.push(`2.p${i}`);
      // The run never waits for anyone: the stalled client reads nothing and the events go on.
      expect(await staying.untilEvents(expected.length)).toEqual(expected);
    }
    // The client that left was found out at its next write and dropped; the stalled one stays.
    expect(fanout.size).toBe(2);
    emit(log.append("completed", {}));
    fanout.closeAll();
    expect(await staying.toEnd()).toEqual([...expected, "3"]);
    // The stalled one gets everything durable, and of the previews only the latest.
    expect(await stalled.toEnd()).toEqual(["1", "2", "2.p5", "3"]);
  });

  it("resuming with Last-Event-ID gives no duplicates and no gaps", async () => {
    const { log, fanout, emit } = setup();
    const first = sseReader(fanout.subscribe(null));
    emit(log.append("running", {}));
    emit(log.preview({ index: 0, url: "u0" }));
    const seen = await first.untilEvents(3);
    await first.cancel();
    // What happens while the client is away.
    emit(log.preview({ index: 1, url: "u1" }));
    emit(log.preview({ index: 2, url: "u2" }));
    const again = sseReader(fanout.subscribe(seen.at(-1)));
    emit(log.append("completed", {}));
    fanout.closeAll();
    const rest = await again.toEnd();
    expect(seen).toEqual(["1", "2", "2.p1"]);
    // The latest preview (state), then the rest: every durable event exactly once overall.
    expect(rest).toEqual(["2.p3", "3"]);
    const durable = [...seen, ...rest].filter((id) => !id?.includes("."));
    expect(durable).toEqual(["1", "2", "3"]);
  });

  it("resuming from the current state sends nothing twice", async () => {
    const { log, fanout, emit } = setup();
    emit(log.append("running", {}));
    emit(log.preview({ index: 0, url: "u0" }));
    const client = sseReader(fanout.subscribe("2.p1"));
    emit(log.append("completed", {}));
    fanout.closeAll();
    expect(await client.toEnd()).toEqual(["3"]);
  });

  it("keeps one pending preview per image for a client that is not reading (newer replaces older)", async () => {
    const { log, fanout, emit } = setup();
    emit(log.append("running", {}));
    const slow = sseReader(fanout.subscribe(null));
    for (let i = 0; i < 20; i++) emit(log.preview({ index: i, url: `first image ${i}` }, 0));
    for (let i = 0; i < 20; i++) emit(log.preview({ index: i, url: `second image ${i}` }, 1));
    emit(log.append("completed", {}));
    fanout.closeAll();
    const ids = await slow.toEnd();
    expect(ids).toEqual(["1", "2", "2.p20", "2.p40", "3"]);
    expect(slow.state.text).toContain('"url":"first image 19"');
    expect(slow.state.text).toContain('"url":"second image 19"');
  });

  it("never moves a newer state ahead of a durable event still pending", async () => {
    const { log, fanout, emit } = setup();
    const slow = sseReader(fanout.subscribe(null));
    emit(log.queued({ position: 1, eta_s: 1 }));
    emit(log.queued({ position: 1, eta_s: 0 }));
    emit(log.append("running", {}));
    // A rate-limited call goes back to the queue: a queue state again, after `running`.
    emit(log.queued({ position: 1, eta_s: 9 }));
    emit(log.append("running", {}));
    fanout.closeAll();
    expect(await slow.toEnd()).toEqual(["1", "1.q2", "2", "2.q3", "3"]);
  });

  it("sends keep-alive comments to an idle client until the end", async () => {
    const { log, fanout, emit } = setup(20);
    const client = sseReader(fanout.subscribe(null));
    await client.untilEvents(1);
    await client.one();
    expect(client.state.text).toContain(": keep-alive\n\n");
    emit(log.append("error", { error: { code: "upstream_timeout" } }));
    fanout.closeAll();
    await client.toEnd();
    expect(client.ids()).toEqual(["1", "2"]);
    // The comment is a whole SSE block: it never lands inside an event.
    expect(client.state.text.split("\n\n").every((block) => block === "" || /^(: keep-alive|id: )/.test(block))).toBe(
      true,
    );
  });

  it("an event published after a client attached that its replay already had is not sent twice", async () => {
    const { log, fanout } = setup();
    // The object appended, then (say) awaited a storage write before publishing; a client came in between.
    const running = log.append("running", {});
    const client = sseReader(fanout.subscribe(null));
    fanout.publish(running);
    const done = log.append("completed", {});
    fanout.publish(done);
    fanout.closeAll();
    expect(await client.toEnd()).toEqual(["1", "2", "3"]);
  });

  it("a client arriving after the end gets the replay and an ended stream", async () => {
    const { log, fanout, emit } = setup();
    emit(log.append("running", {}));
    emit(log.append("completed", { id: "gen" }));
    fanout.closeAll();
    expect(await sseReader(fanout.subscribe(null)).toEnd()).toEqual(["1", "2", "3"]);
    expect(await sseReader(fanout.subscribe("2")).toEnd()).toEqual(["3"]);
    expect(fanout.size).toBe(0);
  });
});
