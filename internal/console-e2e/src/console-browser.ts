import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

// Debian's chromium driven by playwright-core, with every console error and uncaught
// page error of the page collected, and screenshots saved as test artifacts.

/** Where the browser tests leave their screenshots (gitignored). */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

/** The system chromium (`apt-get install chromium`); CI installs it when missing. */
export const CHROMIUM_PATH = process.env.STELLO_CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A browser page and what went wrong in it. */
export interface ConsoleBrowser {
  browser: Browser;
  page: Page;
  /** Console errors and uncaught exceptions of the page, in order. */
  errors: string[];
  /** Saves a full-page screenshot as `<ARTIFACTS_DIR>/<name>.png`. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Launches chromium (headless) with one page of the given size. */
export async function openConsoleBrowser(viewport = { width: 1280, height: 800 }): Promise<ConsoleBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  return {
    browser,
    page,
    errors,
    async screenshot(name) {
      const path = `${ARTIFACTS_DIR}${name}.png`;
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    close: () => browser.close(),
  };
}
