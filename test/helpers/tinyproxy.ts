/**
 * A real HTTP forward proxy for the egress tests: Debian's tinyproxy, started on a free loopback
 * port with a generated config (Basic auth, loopback clients only, CONNECT allowed to the given
 * ports only), and stopped after. Missing tinyproxy is an error, never a skip.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Tinyproxy {
  host: string;
  port: number;
  /** `http://user:password@127.0.0.1:port` (or other credentials, or none). */
  url(credentials?: { user: string; password: string } | null): string;
  /** What tinyproxy printed (its log), for assertions and failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface TinyproxyOptions {
  user: string;
  password: string;
  /** Ports CONNECT may reach; any other is refused with 403. */
  connectPorts: number[];
}

function tinyproxyBinary(): string {
  for (const candidate of ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"]) {
    try {
      execFileSync(candidate, ["-v"], { stdio: "ignore" });
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    "tinyproxy is not installed, and the egress tests need a real forward proxy: apt-get install -y tinyproxy",
  );
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, "127.0.0.1", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

export async function startTinyproxy(options: TinyproxyOptions): Promise<Tinyproxy> {
  const binary = tinyproxyBinary();
  const dir = mkdtempSync(join(tmpdir(), "tinyproxy-"));
  const port = await freePort();
  const config = [
    `Port ${port}`,
    "Listen 127.0.0.1",
    "Timeout 60",
    "MaxClients 50",
    "Allow 127.0.0.1",
    `BasicAuth ${options.user} ${options.password}`,
    ...options.connectPorts.map((p) => `ConnectPort ${p}`),
    "LogLevel Connect",
    "DisableViaHeader Yes",
  ].join("\n");
  writeFileSync(join(dir, "tinyproxy.conf"), `${config}\n`);

  let output = "";
  const child: ChildProcess = spawn(binary, ["-d", "-c", join(dir, "tinyproxy.conf")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  let exited = false;
  child.on("exit", () => {
    exited = true;
  });

  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (exited || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`tinyproxy did not start on 127.0.0.1:${port}:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    host: "127.0.0.1",
    port,
    url: (credentials = { user: options.user, password: options.password }) =>
      credentials
        ? `http://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}`
        : `http://127.0.0.1:${port}`,
    output: () => output,
    stop: async () => {
      if (!exited) {
        const gone = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
        if (!exited) child.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
