import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Builds the server and every workspace package it depends on with tsup (`--filter-prod`: the
// devDependency on @internal/testing would otherwise form a cycle), packs them as npm would
// publish them, installs the tarballs into a throw-away project with npm (third-party
// dependencies come from the registry) and uses the result from plain Node, as ESM and as CJS.
// Slow by nature: it runs in its own file with long timeouts.

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES = [
  'errors',
  'protocol',
  'session',
  'core',
  'db',
  'storage',
  'runtime',
  'transport',
  'console',
  'server',
];
const BUILD_TIMEOUT_MS = 8 * 60_000;
const MAX_BUFFER = 64 * 1024 * 1024;

const ESM_SCRIPT = `
import { createStelloServer, migrate, createPool, createOfflineAdapter } from '@stello-ai/server';
const exportsOk = typeof createStelloServer === 'function' && typeof migrate === 'function';
const pool = createPool({ connectionString: process.env.DATABASE_URL });
// The database is empty: this runs the migrations bundled in the published @stello-ai/db.
const server = await createStelloServer({ pool, agentPoolOptions: { model: createOfflineAdapter() } });
const { port, close } = await server.listen(0);
const base = 'http://127.0.0.1:' + port;
const health = (await fetch(base + '/healthz')).status;
// The console's built files come from the packed @stello-ai/console.
const consolePage = await fetch(base + '/console');
const consoleHtml = await consolePage.text();
const consoleScript = consoleHtml.match(/src="(\\/console\\/assets\\/[^"]+\\.js)"/)?.[1];
const consoleStatus = consolePage.status + ':' + (consoleScript ? (await fetch(base + consoleScript)).status : 'no-script');
const { apiKey } = await server.userStore.createUser('packed');
const headers = { 'X-API-Key': apiKey, 'Content-Type': 'application/json' };
const space = await (await fetch(base + '/spaces', { method: 'POST', headers, body: JSON.stringify({ label: 'Packed' }) })).json();
const sessions = await (await fetch(base + '/spaces/' + space.id + '/sessions', { headers })).json();
const turn = await fetch(base + '/spaces/' + space.id + '/sessions/' + sessions[0].id + '/turn', {
  method: 'POST', headers, body: JSON.stringify({ input: 'hello from the tarball' }),
});
const turnBody = await turn.json();
await close();
await pool.end();
console.log(JSON.stringify({ exportsOk, health, consoleStatus, turnStatus: turn.status, finalContent: turnBody.turn?.finalContent ?? null }));
`;

const CJS_SCRIPT = `
const server = require('@stello-ai/server');
const pg = require('pg');
(async () => {
  const pool = server.createPool({ connectionString: process.env.DATABASE_URL });
  await server.migrate(pool);
  const tables = await pool.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('users', 'spaces', 'sessions', 'records')");
  await pool.end();
  console.log(JSON.stringify({
    createStelloServer: typeof server.createStelloServer,
    migrate: typeof server.migrate,
    AgentPool: typeof server.AgentPool,
    tables: tables.rows[0].n,
    pgLoaded: typeof pg.Pool,
  }));
})().catch((error) => { console.error(error); process.exit(1); });
`;

describe('@stello-ai/server package', () => {
  let work: string;
  let project: string;
  let esmDb: TestDatabase;
  let cjsDb: TestDatabase;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'stello-pack-'));
    esmDb = await createTestDatabase({ migrated: false });
    cjsDb = await createTestDatabase({ migrated: false });

    await run('pnpm', ['--filter-prod', '@stello-ai/server...', 'build'], {
      cwd: REPO_ROOT,
      maxBuffer: MAX_BUFFER,
    });
    const tarballs = join(work, 'tarballs');
    for (const name of PACKAGES) {
      await run('pnpm', ['pack', '--pack-destination', tarballs], {
        cwd: join(REPO_ROOT, 'packages', name),
        maxBuffer: MAX_BUFFER,
      });
    }
    const files = await readdir(tarballs);
    const dependencies: Record<string, string> = {};
    const overrides: Record<string, string> = {};
    for (const name of PACKAGES) {
      const file = files.find((f) => f.startsWith(`stello-ai-${name}-`) && f.endsWith('.tgz'));
      if (file === undefined) throw new Error(`no tarball for @stello-ai/${name} in ${files.join(', ')}`);
      dependencies[`@stello-ai/${name}`] = `file:${join(tarballs, file)}`;
      // Every package's own dependency on a sibling resolves to the local tarball, not the registry.
      overrides[`@stello-ai/${name}`] = `$@stello-ai/${name}`;
    }
    project = join(work, 'consumer');
    await mkdir(project, { recursive: true });
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'stello-consumer',
        private: true,
        dependencies: { ...dependencies, pg: '^8' },
        overrides,
      }),
    );
    await writeFile(join(project, 'esm.mjs'), ESM_SCRIPT);
    await writeFile(join(project, 'cjs.cjs'), CJS_SCRIPT);
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: project,
      maxBuffer: MAX_BUFFER,
    });
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await esmDb?.drop();
    await cjsDb?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('runs from an ESM import: migrate, listen, a turn over HTTP, close', async () => {
    const { stdout } = await run(process.execPath, ['esm.mjs'], {
      cwd: project,
      env: { ...process.env, DATABASE_URL: esmDb.url },
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(result).toMatchObject({ exportsOk: true, health: 200, consoleStatus: '200:200', turnStatus: 200 });
    expect(typeof result.finalContent).toBe('string');
  }, 60_000);

  it('runs from a CJS require: the exports are functions and migrate() works', async () => {
    const { stdout } = await run(process.execPath, ['cjs.cjs'], {
      cwd: project,
      env: { ...process.env, DATABASE_URL: cjsDb.url },
    });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({
      createStelloServer: 'function',
      migrate: 'function',
      AgentPool: 'function',
      tables: 4,
      pgLoaded: 'function',
    });
  }, 60_000);

  it('ships type declarations and a runnable stello bin', async () => {
    const installed = join(project, 'node_modules', '@stello-ai', 'server');
    expect(existsSync(join(installed, 'dist', 'index.d.ts'))).toBe(true);
    expect(existsSync(join(installed, 'dist', 'index.d.cts'))).toBe(true);
    const { stdout } = await run(join(project, 'node_modules', '.bin', 'stello'), ['--help'], {
      cwd: project,
    });
    expect(stdout).toContain('Usage: stello <command>');
    const version = await run(join(project, 'node_modules', '.bin', 'stello'), ['--version'], {
      cwd: project,
    });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  }, 60_000);
});
