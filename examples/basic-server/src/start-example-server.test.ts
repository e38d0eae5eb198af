import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { createJsonLogger } from '@stello-ai/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExampleServer } from './start-example-server';

const EXAMPLE_DIR = fileURLToPath(new URL('../', import.meta.url));
const quiet = createJsonLogger({ level: 'silent' });

async function createSpace(url: string, apiKey: string): Promise<number> {
  const response = await fetch(`${url}/spaces`, {
    method: 'POST',
    headers: { 'X-API-Key': apiKey, 'Content-Type': 'application/json' },
    body: JSON.stringify({ label: 'My first space' }),
  });
  return response.status;
}

function bannerKey(banner: string): string | undefined {
  return /^ {4}(stello_\S+)$/m.exec(banner)?.[1];
}

describe('startExampleServer', () => {
  let db: TestDatabase;
  let dataDir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'stello-example-'));
  });
  afterAll(async () => {
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('creates a demo user on the first start, says the model is offline, and its curl key works', async () => {
    let banner = '';
    const server = await startExampleServer({
      env: { DATABASE_URL: db.url, PORT: '0' },
      dataDir,
      logger: quiet,
      print: (text) => {
        banner += text;
      },
    });
    try {
      expect(banner).toContain(`URL:       ${server.url}`);
      expect(banner).toContain(`Console:   ${server.url}/console`);
      // Served by this server, with no key (503 until `pnpm start` has built it).
      expect([200, 503]).toContain((await fetch(`${server.url}/console`)).status);
      expect(banner).toContain('Model:     OFFLINE model (no LLM key is set');
      // Said once, on the model line.
      expect(banner.match(/offline model/gi)).toHaveLength(1);
      expect(banner).toContain('A demo user was created');
      expect(banner).toContain('Only its hash is stored');
      const key = bannerKey(banner);
      expect(key).toBeDefined();
      expect(banner).toContain(`curl -s -X POST ${server.url}/spaces -H 'X-API-Key: ${key}'`);
      expect(await createSpace(server.url, key!)).toBe(201);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    } finally {
      await server.close();
    }

    // A later start on the same database shows no key: it says how to create one.
    let second = '';
    const again = await startExampleServer({
      env: { DATABASE_URL: db.url, PORT: '0' },
      dataDir,
      logger: quiet,
      print: (text) => {
        second += text;
      },
    });
    await again.close();
    expect(bannerKey(second)).toBeUndefined();
    expect(second).toContain('pnpm stello users create --name alice');
  });

  it('seeds STELLO_API_KEY idempotently', async () => {
    const apiKey = 'stello_example-seeded-key-000001';
    for (let start = 0; start < 2; start += 1) {
      let banner = '';
      const server = await startExampleServer({
        env: { DATABASE_URL: db.url, PORT: '0', STELLO_API_KEY: apiKey },
        dataDir,
        logger: quiet,
        print: (text) => {
          banner += text;
        },
      });
      try {
        expect(banner).toContain('"X-API-Key: $STELLO_API_KEY"');
        expect(banner).not.toContain(apiKey);
        expect(await createSpace(server.url, apiKey)).toBe(201);
      } finally {
        await server.close();
      }
    }
  });

  it('serves no console and prints no console URL with STELLO_CONSOLE=off', async () => {
    let banner = '';
    const server = await startExampleServer({
      env: { DATABASE_URL: db.url, PORT: '0', STELLO_CONSOLE: 'off' },
      dataDir,
      logger: quiet,
      print: (text) => {
        banner += text;
      },
    });
    try {
      expect(banner).not.toContain('Console:');
      expect((await fetch(`${server.url}/console`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('rejects an invalid PORT', async () => {
    await expect(
      startExampleServer({
        env: { DATABASE_URL: db.url, PORT: 'http' },
        dataDir,
        logger: quiet,
        print: () => {},
      }),
    ).rejects.toThrow('PORT must be an integer');
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

interface Started {
  child: ChildProcess;
  output: () => string;
  url: string;
}

async function startMain(env: Record<string, string>): Promise<Started> {
  const child = spawn(
    process.execPath,
    ['--conditions=@stello-ai/source', '--import', 'tsx', 'src/main.ts'],
    {
      cwd: EXAMPLE_DIR,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const deadline = Date.now() + 90_000;
  for (;;) {
    const url = /^ {2}URL: +(\S+)$/m.exec(output)?.[1];
    if (url !== undefined) return { child, output: () => output, url };
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the example did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs `pnpm stello …` as the README has a newcomer do: from the repository root, no DATABASE_URL. */
async function runStelloCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    ['--conditions=@stello-ai/source', '--import', 'tsx', 'packages/server/src/cli.ts', ...args],
    {
      cwd: join(EXAMPLE_DIR, '../..'),
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const [code] = await once(child, 'exit');
  return { code: code as number | null, output };
}

async function stopMain(started: Started): Promise<number | null> {
  const exited = once(started.child, 'exit');
  started.child.kill('SIGTERM');
  const [code] = await exited;
  return code as number | null;
}

describe('pnpm start (examples/basic-server/src/main.ts)', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'stello-embedded-'));
    // As root, PostgreSQL runs as the `postgres` user, which must be able to reach its data directory.
    await chmod(dataDir, 0o755);
  });
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('runs on an embedded PostgreSQL that survives restarts, and stops on SIGTERM', async () => {
    const env = { STELLO_DATA_DIR: dataDir, STELLO_PG_PORT: String(await freePort()), PORT: '0' };

    const first = await startMain(env);
    let key: string | undefined;
    try {
      expect(first.output()).toContain('embedded PostgreSQL on 127.0.0.1');
      expect(first.output()).toContain('OFFLINE model');
      key = bannerKey(first.output());
      expect(key).toBeDefined();
      expect(await createSpace(first.url, key!)).toBe(201);
    } finally {
      expect(await stopMain(first)).toBe(0);
    }
    expect(first.output()).toContain('"event":"example.stopped"');
    const keyFile = join(dataDir, 'demo-key');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect((await readFile(keyFile, 'utf8')).trim()).toBe(key);

    const second = await startMain(env);
    try {
      expect(bannerKey(second.output())).toBeUndefined();
      expect(second.output()).toContain(`"X-API-Key: $(cat ${keyFile})"`);
      const spaces = await fetch(`${second.url}/spaces`, { headers: { 'X-API-Key': key! } });
      expect(spaces.status).toBe(200);
      // The space of the first run is still there.
      expect(await spaces.json()).toHaveLength(1);

      // The CLI finds the embedded database through the URL file the example wrote.
      expect((await stat(join(dataDir, 'database-url'))).mode & 0o777).toBe(0o600);
      const created = await runStelloCli(['users', 'create', '--name', 'newcomer'], {
        STELLO_DATA_DIR: dataDir,
      });
      expect(created.code).toBe(0);
      const newKey = created.output.trim().split('\n').at(-1)!;
      const own = await fetch(`${second.url}/spaces`, { headers: { 'X-API-Key': newKey } });
      expect(own.status).toBe(200);
      const migrated = await runStelloCli(['migrate'], { STELLO_DATA_DIR: dataDir });
      expect(migrated).toMatchObject({ code: 0, output: expect.stringContaining('no pending migrations') });
    } finally {
      expect(await stopMain(second)).toBe(0);
    }
  }, 180_000);
});
