// Builds the console into dist/ with Vite. With `--if-stale`, only when dist/ is missing or older
// than a source file (`pnpm start` and the browser tests run it so a fresh clone works).
// The build goes to a fresh folder that then replaces dist/ in two renames, so a server that
// serves dist/ while another process rebuilds it never finds it empty.
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const SOURCES = ['src', 'index.html', 'vite.config.ts', 'package.json'];

async function mtimeMs(path) {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return null;
  }
}

/** The newest modification time of the sources, in ms. */
async function newestSourceMs() {
  let newest = 0;
  for (const name of SOURCES) {
    const path = join(ROOT, name);
    const info = await stat(path);
    if (!info.isDirectory()) newest = Math.max(newest, info.mtimeMs);
    else {
      for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
        if (entry.isFile())
          newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
      }
    }
  }
  return newest;
}

const ifStale = process.argv.includes('--if-stale');
const builtAt = await mtimeMs(join(DIST, 'index.html'));
if (ifStale && builtAt !== null && builtAt >= (await newestSourceMs())) process.exit(0);

const next = join(ROOT, `.dist-next-${process.pid}`);
const old = join(ROOT, `.dist-old-${process.pid}`);
try {
  await build({
    root: ROOT,
    configFile: join(ROOT, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: next, emptyOutDir: true },
  });
  // Another process may swap its own build in at the same moment (the same sources): then its
  // dist/ stands and this build is dropped.
  await rename(DIST, old).catch((error) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await rename(next, DIST).catch((error) => {
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
  });
} finally {
  await rm(next, { recursive: true, force: true });
  await rm(old, { recursive: true, force: true });
}
process.stdout.write(`console: built into ${DIST}\n`);
