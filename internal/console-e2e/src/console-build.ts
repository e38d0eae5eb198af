import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// The browser tests need the console built (a fresh clone has no dist/). It is built
// with the package's own `vite build` when dist/ is missing or older than any source file.

const run = promisify(execFile);

/** The @stello-ai/console package directory. */
export const CONSOLE_PACKAGE_DIR = fileURLToPath(new URL('../../../packages/console/', import.meta.url));

async function newestSourceMs(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

async function mtimeMs(path: string): Promise<number | null> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return null;
  }
}

/** Builds the console unless its dist/ is newer than its sources; resolves to whether it built. */
export async function ensureConsoleBuilt(): Promise<boolean> {
  const builtAt = await mtimeMs(join(CONSOLE_PACKAGE_DIR, 'dist', 'index.html'));
  const sources = [
    await newestSourceMs(join(CONSOLE_PACKAGE_DIR, 'src')),
    (await mtimeMs(join(CONSOLE_PACKAGE_DIR, 'index.html'))) ?? 0,
    (await mtimeMs(join(CONSOLE_PACKAGE_DIR, 'vite.config.ts'))) ?? 0,
  ];
  if (builtAt !== null && builtAt >= Math.max(...sources)) return false;
  await run('pnpm', ['run', 'build'], { cwd: CONSOLE_PACKAGE_DIR, maxBuffer: 16 * 1024 * 1024 });
  return true;
}
