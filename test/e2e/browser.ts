/**
 * Debian's Chromium driven by playwright-core (Playwright's own browser download cannot work on
 * these machines). Each page gets a fresh profile, so localStorage starts empty and tests don't
 * see each other's history or language choice.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll } from "vitest";
import { type Stack, type StackOptions, startStack } from "../helpers/stack.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Fails each test loudly, so a machine without Chromium reports failures, never silent skips. */
function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. The browser tests need it: apt-get install -y chromium ` +
        "(or set CHROMIUM_PATH to another Chromium binary).",
    );
  }
}

export interface OpenPage {
  page: Page;
  context: BrowserContext;
  /** Every URL the browser asked for, in order (any page, any resource type). */
  requests: string[];
  /** Uncaught exceptions in the page. */
  pageErrors: string[];
  close(): Promise<void>;
}

export async function openPage(
  options: { locale?: string; viewport?: { width: number; height: number } } = {},
): Promise<OpenPage> {
  requireChromium();
  const profile = mkdtempSync(join(tmpdir(), "e2e-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    locale: options.locale ?? "en-US",
    viewport: options.viewport ?? { width: 1100, height: 900 },
  });
  const requests: string[] = [];
  const pageErrors: string[] = [];
  context.on("request", (request) => requests.push(request.url()));
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (error) => pageErrors.push(error.message));
  return {
    page,
    context,
    requests,
    pageErrors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * The stack for one e2e file (both workers in Miniflare, with the stand-in) and the page under
 * test: `load()` opens a fresh browser on the app, closed again after each test.
 */
export function usePageStack(options: StackOptions = {}): {
  readonly appUrl: string;
  /** The stack itself (the stand-in's recorded calls), once started. */
  readonly stack: Stack;
  readonly open: OpenPage | undefined;
  /** A fresh browser on the app. */
  load(options?: Parameters<typeof openPage>[0]): Promise<Page>;
  /** A fresh browser not yet on any page (to set up routes first). */
  blank(options?: Parameters<typeof openPage>[0]): Promise<Page>;
} {
  let stack: Stack | undefined;
  let appUrl = "";
  let open: OpenPage | undefined;
  beforeAll(async () => {
    stack = await startStack(options);
    appUrl = (await stack.mf.ready).href;
  });
  afterAll(() => stack?.stop());
  afterEach(async () => {
    await open?.close();
    open = undefined;
  });
  return {
    get appUrl() {
      return appUrl;
    },
    get stack() {
      if (!stack) throw new Error("the stack is not started yet");
      return stack;
    },
    get open() {
      return open;
    },
    async blank(options) {
      open = await openPage(options);
      return open.page;
    },
    async load(options) {
      const page = await this.blank(options);
      await page.goto(appUrl);
      return page;
    },
  };
}
