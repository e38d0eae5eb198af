import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// The browser tests need the console built (a fresh clone has no dist/): the package's own build
// script builds it when dist/ is missing or older than its sources.

const run = promisify(execFile);

/** The @stello-ai/console package directory. */
export const CONSOLE_PACKAGE_DIR = fileURLToPath(new URL('../../../packages/console/', import.meta.url));

/** Builds the console unless its dist/ is newer than its sources. */
export async function ensureConsoleBuilt(): Promise<void> {
  await run(process.execPath, ['scripts/build.mjs', '--if-stale'], {
    cwd: CONSOLE_PACKAGE_DIR,
    maxBuffer: 16 * 1024 * 1024,
  });
}
