/**
 * A loopback TCP proxy in front of the app that the test can cut: every open connection is
 * destroyed at once, as when a phone's network drops. The browser sees a broken stream (a
 * network error), not a clean end, and its next connection goes through again. Or it can
 * freeze them: nothing more passes and nothing is closed, as with a connection from before a
 * closed laptop lid, which hangs without an error. Or it can mute the answers: requests still
 * reach the app, nothing comes back, until the next cut (a network lost after the request left).
 */
import { createConnection, createServer, type Socket } from "node:net";

export interface CutProxy {
  /** The app's URL through the proxy (another port on 127.0.0.1). */
  url: string;
  /** Destroys every open connection, both sides; returns how many there were. */
  cut(): number;
  /** Stops every open connection passing anything, without closing it; new ones still work. */
  freeze(): number;
  /**
   * From now until the next `cut()`: requests on every connection (open or new) still reach the
   * app, its answers never reach the browser. Returns how many connections were open.
   */
  muteAnswers(): number;
  close(): Promise<void>;
}

export async function startCutProxy(target: string): Promise<CutProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  let muted = false;
  const mute = (upstream: Socket, client: Socket) => {
    upstream.unpipe(client);
    upstream.pause();
  };
  const server = createServer((client) => {
    const upstream = createConnection({ host: hostname, port: Number(port) });
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on("close", () => open.delete(socket));
      // A cut is expected: its errors (ECONNRESET, EPIPE) are the point, not a failure.
      socket.on("error", () => {});
    }
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on("close", () => pairs.delete(pair));
    client.pipe(upstream);
    if (muted) mute(upstream, client);
    else upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("proxy has no port");
  return {
    url: `http://127.0.0.1:${address.port}/`,
    cut() {
      const n = open.size;
      muted = false;
      for (const socket of open) socket.destroy();
      return n;
    },
    freeze() {
      const n = pairs.size;
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
      pairs.clear();
      return n;
    },
    muteAnswers() {
      muted = true;
      for (const [client, upstream] of pairs) mute(upstream, client);
      return pairs.size;
    },
    close() {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
