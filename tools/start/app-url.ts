/**
 * Where the app of a running `npm start` listens, for `npm run doctor` without a URL. npm start
 * chooses the port itself (the operator's `--port`, else the first free one from 8787, as wrangler
 * would) so that the URL is known, and writes it to `.wrangler/app-url.json` (gitignored) for as
 * long as it runs. The file names the process that wrote it: a URL left by a run that was killed
 * outright is ignored.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export const DEFAULT_APP_PORT = 8787;
/** How far past 8787 wrangler itself looks for a free port. */
const PORTS_TO_TRY = 10;
export const APP_URL_FILE = join(".wrangler", "app-url.json");

export interface AppUrlState {
  url: string;
  pid: number;
}

/** The first port from 8787 that `free` says is free (8787 itself when none is). */
export async function chooseAppPort(free: (port: number) => Promise<boolean>): Promise<number> {
  for (let port = DEFAULT_APP_PORT; port <= DEFAULT_APP_PORT + PORTS_TO_TRY; port++) {
    if (await free(port)) return port;
  }
  return DEFAULT_APP_PORT;
}

export function writeAppUrl(root: string, state: AppUrlState): void {
  const path = join(root, APP_URL_FILE);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(state)}\n`);
}

/** Removes the file if this process wrote it (another run may have replaced it since). */
export function removeAppUrl(root: string, pid: number): void {
  if (readState(root)?.pid === pid) rmSync(join(root, APP_URL_FILE), { force: true });
}

function readState(root: string): AppUrlState | undefined {
  const path = join(root, APP_URL_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const state = JSON.parse(readFileSync(path, "utf8")) as Partial<AppUrlState>;
    return typeof state.url === "string" && Number.isInteger(state.pid) ? (state as AppUrlState) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether process `pid` exists (also when it belongs to another user). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The app URL of the npm start that is running now, if any. */
export function runningAppUrl(root: string): string | undefined {
  const state = readState(root);
  return state && alive(state.pid) ? state.url : undefined;
}
