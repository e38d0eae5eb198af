import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { createPool } from '@stello-ai/db';
import { UserStore } from '@stello-ai/runtime';
import { PgStores } from '@stello-ai/storage';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EHarness, startHarness, WsTestClient } from './__fixtures__/e2e-harness';

// Two server stacks whose query pools go through a real PgBouncer in transaction pooling mode,
// with their control channels on the direct URL, as a pooled deployment runs them.

// Debian installs it in /usr/sbin, which a non-login shell's PATH may lack.
const PGBOUNCER_CANDIDATES = ['pgbouncer', '/usr/sbin/pgbouncer', '/usr/local/sbin/pgbouncer'];

/** The pgbouncer binary that runs, or `null`. */
function findPgBouncer(): string | null {
  for (const candidate of PGBOUNCER_CANDIDATES) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {}
  }
  return null;
}

const PGBOUNCER = findPgBouncer();

function hasPgBouncer(): boolean {
  return PGBOUNCER !== null;
}

function systemUserExists(name: string): boolean {
  try {
    execFileSync('id', ['-u', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`pgbouncer did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface PgBouncer {
  url: string;
  stop(): Promise<void>;
}

/** Starts PgBouncer (transaction mode, trusted clients) in front of the database of `directUrl`. */
async function startPgBouncer(directUrl: string): Promise<PgBouncer> {
  const target = new URL(directUrl);
  const dbName = target.pathname.slice(1);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'stello-pgbouncer-'));
  chmodSync(dir, 0o777);
  const backend = [
    `host=${target.hostname}`,
    `port=${target.port || '5432'}`,
    `dbname=${dbName}`,
    `user=${decodeURIComponent(target.username)}`,
    ...(target.password ? [`password=${decodeURIComponent(target.password)}`] : []),
  ].join(' ');
  writeFileSync(join(dir, 'userlist.txt'), `"${decodeURIComponent(target.username)}" ""\n`);
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `${dbName} = ${backend}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      'default_pool_size = 8',
      'max_client_conn = 200',
      'ignore_startup_parameters = extra_float_digits,options,statement_timeout',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
  );
  for (const file of ['userlist.txt', 'pgbouncer.ini']) chmodSync(join(dir, file), 0o644);
  // PgBouncer refuses to run as root (CI runs as root): it then drops to an unprivileged user.
  const asRoot = process.getuid?.() === 0;
  const runAs = asRoot ? ['-u', systemUserExists('postgres') ? 'postgres' : 'nobody'] : [];
  const child: ChildProcess = spawn(PGBOUNCER ?? 'pgbouncer', [...runAs, join(dir, 'pgbouncer.ini')], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, 10_000);
  const pooled = new URL(directUrl);
  pooled.hostname = '127.0.0.1';
  pooled.port = String(port);
  pooled.password = '';
  return {
    url: pooled.toString(),
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe.skipIf(!hasPgBouncer())(
  'behind PgBouncer in transaction mode (skipped only when the pgbouncer binary is absent)',
  () => {
    let db: TestDatabase;
    let bouncer: PgBouncer;
    let poolA: pg.Pool;
    let poolB: pg.Pool;
    let a: E2EHarness;
    let b: E2EHarness;

    beforeAll(async () => {
      db = await createTestDatabase();
      bouncer = await startPgBouncer(db.url);
      poolA = createPool({ connectionString: bouncer.url });
      poolB = createPool({ connectionString: bouncer.url });
      const serverOptions = (pool: pg.Pool) => ({
        userStore: new UserStore(new PgStores(pool, { preparedStatements: false }).users),
        storage: { preparedStatements: false },
        controlDatabaseUrl: db.url,
        skipMigrate: true,
      });
      a = await startHarness(poolA, { server: serverOptions(poolA) });
      b = await startHarness(poolB, { server: serverOptions(poolB) });
    }, 30_000);

    afterAll(async () => {
      await a?.close();
      await b?.close();
      await poolA?.end();
      await poolB?.end();
      await bouncer?.stop();
      await db?.drop();
    });

    it('queries go through the pooler and the control channel does not', async () => {
      const pooledPort = new URL(bouncer.url).port;
      expect(pooledPort).not.toBe(new URL(db.url).port || '5432');
      const { rows } = await poolA.query<{ one: number }>('SELECT 1 AS one');
      expect(rows[0]?.one).toBe(1);
      // Each process holds its own identity on its direct LISTEN connection.
      expect(a.server.controlChannel?.instanceId).toBeGreaterThan(0);
      expect(b.server.controlChannel?.instanceId).not.toBe(a.server.controlChannel?.instanceId);
    });

    it('runs turns and forks, keeps B coherent with a PATCH on A and closes a revoked key everywhere', async () => {
      const created = await a.api('POST', '/spaces', { label: 'pooled', systemPrompt: 'Before.' });
      expect(created.status).toBe(201);
      const spaceId = created.body.id as string;
      const root = (await a.api('GET', `/spaces/${spaceId}/sessions`)).body[0].id as string;
      for (let i = 0; i < 3; i += 1) {
        const h = i % 2 === 0 ? a : b;
        const turn = await h.api(
          'POST',
          `/spaces/${spaceId}/sessions/${root}/turn`,
          { input: `turn ${i}` },
          a.apiKey,
        );
        expect(turn.status).toBe(200);
        expect(turn.body.turn.finalContent).toBe(`Echo: turn ${i}`);
      }
      const fork = await b.api(
        'POST',
        `/spaces/${spaceId}/sessions/${root}/fork`,
        { label: 'child' },
        a.apiKey,
      );
      expect(fork.status).toBe(201);

      const seenOnB = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no space.updated on B within 1 s')), 1_000);
        const stop = b.server.controlChannel?.subscribe((event) => {
          if (event.kind !== 'space.updated' || event.spaceId !== spaceId) return;
          clearTimeout(timer);
          stop?.();
          resolve();
        });
      });
      expect((await a.api('PATCH', `/spaces/${spaceId}`, { systemPrompt: 'After.' })).status).toBe(200);
      await seenOnB;
      const after = await b.api(
        'POST',
        `/spaces/${spaceId}/sessions/${root}/turn`,
        { input: 'last' },
        a.apiKey,
      );
      expect(after.status).toBe(200);
      const systemPrompts = b.fake.requests
        .at(-1)
        ?.body.messages.filter((message: { role: string }) => message.role === 'system')
        .map((message: { content: string }) => message.content)
        .join('\n');
      expect(systemPrompts).toContain('After.');

      const owner = await a.server.userStore.createUser('pooled-revoked');
      const own = await b.api('POST', '/spaces', { label: 'mine' }, owner.apiKey);
      const socket = await WsTestClient.connect(a.wsUrl(own.body.id), owner.apiKey);
      expect(await b.server.userStore.revokeKey(owner.user.id)).toBe(true);
      const closed = await Promise.race([
        socket.closed,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('socket still open after 1 s')), 1_000),
        ),
      ]);
      expect(closed.code).toBe(1008);
      expect((await a.api('GET', `/spaces/${own.body.id}`, undefined, owner.apiKey)).status).toBe(401);
    });
  },
);
