import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EHarness, startHarness } from '../__fixtures__/e2e-harness';
import { runCli } from './run-cli';

interface CliRun {
  code: number;
  stdout: string[];
  stderr: string[];
}

async function cli(argv: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(argv, {
    env,
    stdout: (line) => stdout.push(...line.split('\n')),
    stderr: (line) => stderr.push(...line.split('\n')),
  });
  return { code, stdout, stderr };
}

describe('runCli', () => {
  let db: TestDatabase;
  let h: E2EHarness;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase();
    h = await startHarness(db.pool);
    env = { DATABASE_URL: db.url };
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  it('creates a user whose printed key authenticates', async () => {
    const run = await cli(['users', 'create', '--name', 'bob'], env);
    expect(run.code).toBe(0);
    const key = run.stdout.at(-1)!;
    expect(key).toMatch(/^stello_\S+$/);
    expect((await h.api('GET', '/spaces', undefined, key)).status).toBe(200);
  });

  it('prints JSON with --json', async () => {
    const run = await cli(['users', 'create', '--name', 'carol', '--json'], env);
    expect(run.code).toBe(0);
    const created = JSON.parse(run.stdout.join('\n'));
    expect(created).toMatchObject({ name: 'carol', apiKey: expect.stringMatching(/^stello_/) });
    expect((await h.api('GET', '/spaces', undefined, created.apiKey)).status).toBe(200);
  });

  it('lists users with key prefixes only', async () => {
    const created = JSON.parse(
      (await cli(['users', 'create', '--name', 'dave', '--json'], env)).stdout.join(''),
    );
    const run = await cli(['users', 'list'], env);
    expect(run.code).toBe(0);
    const line = run.stdout.find((l) => l.includes(created.id));
    expect(line).toContain('dave');
    expect(line).toContain('active');
    expect(line).toContain(created.apiKey.slice(0, 11));
    expect(run.stdout.join('\n')).not.toContain(created.apiKey);

    const json = await cli(['users', 'list', '--json'], env);
    const dave = JSON.parse(json.stdout.join('')).find((u: { id: string }) => u.id === created.id);
    expect(dave).toMatchObject({ name: 'dave', keyPrefix: created.apiKey.slice(0, 11), keyStatus: 'active' });
  });

  it('revokes a key by prefix so that it no longer authenticates', async () => {
    const created = JSON.parse(
      (await cli(['users', 'create', '--name', 'erin', '--json'], env)).stdout.join(''),
    );
    expect((await h.api('GET', '/spaces', undefined, created.apiKey)).status).toBe(200);

    const run = await cli(['keys', 'revoke', created.apiKey.slice(0, 11)], env);
    expect(run.code).toBe(0);
    expect((await h.api('GET', '/spaces', undefined, created.apiKey)).status).toBe(401);

    const listed = await cli(['users', 'list', '--json'], env);
    const erin = JSON.parse(listed.stdout.join('')).find((u: { id: string }) => u.id === created.id);
    expect(erin.keyStatus).toBe('revoked');
  });

  it('issues a new key that replaces the old one', async () => {
    const created = JSON.parse(
      (await cli(['users', 'create', '--name', 'frank', '--json'], env)).stdout.join(''),
    );
    const run = await cli(['keys', 'issue', created.id], env);
    expect(run.code).toBe(0);
    const newKey = run.stdout.at(-1)!;
    expect(newKey).not.toBe(created.apiKey);
    expect((await h.api('GET', '/spaces', undefined, newKey)).status).toBe(200);
    expect((await h.api('GET', '/spaces', undefined, created.apiKey)).status).toBe(401);
  });

  it('revokes by user id and fails when nothing matches', async () => {
    const created = JSON.parse(
      (await cli(['users', 'create', '--name', 'gina', '--json'], env)).stdout.join(''),
    );
    expect((await cli(['keys', 'revoke', created.id], env)).code).toBe(0);
    const again = await cli(['keys', 'revoke', 'stello_nomatch'], env);
    expect(again.code).toBe(1);
    expect(again.stderr.join('\n')).toContain('no active key matches');
  });

  it("shows and sets a key's rate limits by prefix or id, and goes back to the default", async () => {
    const created = JSON.parse(
      (await cli(['users', 'create', '--name', 'hana', '--json'], env)).stdout.join(''),
    );
    const prefix = created.apiKey.slice(0, 11);
    const shown = await cli(['keys', 'limits', prefix], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout.join('\n')).toContain('turns per minute: server default');
    const set = await cli(
      ['keys', 'limits', prefix, '--turns-per-minute', '30', '--streams', '0', '--json'],
      env,
    );
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout.join(''))).toEqual({ userId: created.id, turnsPerMinute: 30, streams: 0 });
    const back = await cli(['keys', 'limits', created.id, '--turns-per-minute', 'default', '--json'], env);
    expect(JSON.parse(back.stdout.join(''))).toEqual({
      userId: created.id,
      turnsPerMinute: null,
      streams: 0,
    });

    const bad = await cli(['keys', 'limits', prefix, '--streams', '-1'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr.join('\n')).toContain('--streams');
    const unknown = await cli(
      ['keys', 'limits', '00000000-0000-4000-8000-000000000000', '--streams', '1'],
      env,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.join('\n')).toContain('no user or active key matches');
  });

  it('fails with exit code 1 when issuing a key for an unknown user', async () => {
    const run = await cli(['keys', 'issue', '00000000-0000-4000-8000-000000000000'], env);
    expect(run.code).toBe(1);
    expect(run.stderr.join('\n')).toMatch(/^stello: error: /);
  });

  it('migrates an empty database and says so', async () => {
    const empty = await createTestDatabase({ migrated: false });
    try {
      const before = await cli(['users', 'list'], { DATABASE_URL: empty.url });
      expect(before.code).toBe(1);
      expect(before.stderr.join('\n')).toContain('run `stello migrate` first');

      const run = await cli(['migrate'], { DATABASE_URL: empty.url });
      expect(run.code).toBe(0);
      expect(run.stdout[0]).toMatch(/^applied \d+ migrations?:$/);
      expect(run.stdout.slice(1, -1).length).toBeGreaterThan(0);
      expect(run.stdout.at(-1)).toContain('up to date');
      expect((await cli(['users', 'list', '--database-url', empty.url])).code).toBe(0);

      const again = await cli(['migrate'], { DATABASE_URL: empty.url });
      expect(again.stdout).toEqual(['no pending migrations: the database schema is up to date']);
    } finally {
      await empty.drop();
    }
  });

  it('prints help for the whole CLI and for each command', async () => {
    const all = await cli(['--help']);
    expect(all.code).toBe(0);
    expect(all.stdout.join('\n')).toContain('Usage: stello <command>');
    for (const command of ['serve', 'migrate', 'users', 'keys']) {
      const run = await cli([command, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout.join('\n')).toContain(`Usage: stello ${command}`);
    }
    expect((await cli(['users', 'create', '--help'])).stdout.join('\n')).toContain('--name NAME');
    expect((await cli(['help', 'serve'])).stdout.join('\n')).toContain('Usage: stello serve');
  });

  it('prints the version', async () => {
    const run = await cli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout[0]).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits with 2 on a bad command line', async () => {
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.join('\n')).toContain('unknown command "frobnicate"');

    const badFlag = await cli(['users', 'list', '--bogus'], env);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr.join('\n')).toContain('stello users list --help');

    expect((await cli(['users', 'create'], env)).code).toBe(2);
    expect((await cli(['keys', 'revoke'], env)).code).toBe(2);
    expect((await cli(['keys', 'revoke', 'a', 'b'], env)).code).toBe(2);
    expect((await cli([])).code).toBe(2);
    const bare = await cli(['keys']);
    expect(bare.code).toBe(2);
    expect(bare.stderr.join('\n')).toContain('Usage: stello keys');
    const unknownSub = await cli(['users', 'frobnicate']);
    expect(unknownSub.code).toBe(2);
    expect(unknownSub.stderr.join('\n')).toContain('unknown users command "frobnicate"');
    // Names of Object.prototype members are not subcommands either.
    expect((await cli(['keys', 'constructor'])).stderr.join('\n')).toContain(
      'unknown keys command "constructor"',
    );
    expect((await cli(['serve', '--port', 'eighty'], env)).code).toBe(2);
    const badPrepared = await cli(['serve', '--port', '0'], { ...env, STELLO_PREPARED_STATEMENTS: 'maybe' });
    expect(badPrepared.code).toBe(2);
    expect(badPrepared.stderr.join('\n')).toContain('STELLO_PREPARED_STATEMENTS');
  });

  it('exits with 2 when no database is configured, printing the DATABASE_URL of the example', async () => {
    const nowhere = await mkdtemp(join(tmpdir(), 'stello-cli-'));
    try {
      const run = await cli(['users', 'list'], { STELLO_DATA_DIR: nowhere });
      expect(run.code).toBe(2);
      expect(run.stderr.join('\n')).toContain(
        'DATABASE_URL=postgresql://stello:stello@127.0.0.1:54329/stello pnpm stello users',
      );
    } finally {
      await rm(nowhere, { recursive: true, force: true });
    }
  });

  it("finds the example server's embedded database through the URL file in its data directory", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'stello-cli-'));
    try {
      await writeFile(join(dataDir, 'database-url'), `${db.url}\n`);
      const created = await cli(['users', 'create', '--name', 'newcomer'], { STELLO_DATA_DIR: dataDir });
      expect(created.code).toBe(0);
      expect((await h.api('GET', '/spaces', undefined, created.stdout.at(-1)!)).status).toBe(200);
      // DATABASE_URL still wins over the file.
      await writeFile(join(dataDir, 'database-url'), 'postgresql://nobody@127.0.0.1:1/none\n');
      expect((await cli(['users', 'list'], { STELLO_DATA_DIR: dataDir, DATABASE_URL: db.url })).code).toBe(0);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('serves until its signal aborts, seeding STELLO_API_KEY', async () => {
    const controller = new AbortController();
    const stdout: string[] = [];
    const apiKey = 'stello_cli-serve-seeded-key-0001';
    const running = runCli(['serve', '--port', '0'], {
      env: { DATABASE_URL: db.url, STELLO_API_KEY: apiKey, STELLO_PREPARED_STATEMENTS: 'off' },
      stdout: (line) => stdout.push(line),
      stderr: () => {},
      signal: controller.signal,
    });
    const deadline = Date.now() + 15_000;
    let ready: { url: string; model: string } | undefined;
    while (ready === undefined && Date.now() < deadline) {
      const line = stdout.map((l) => JSON.parse(l)).find((entry) => entry.event === 'server.ready');
      if (line) ready = line;
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(ready?.model).toContain('offline');
    const spaces = await fetch(`${ready!.url}/spaces`, { headers: { 'X-API-Key': apiKey } });
    expect(spaces.status).toBe(200);
    expect(stdout.some((l) => JSON.parse(l).event === 'server.offline_model')).toBe(true);
    // A turn: its prompt never reaches the log, its line carries the request id.
    const prompt = 'the-secret-prompt-4711';
    const headers = { 'X-API-Key': apiKey, 'Content-Type': 'application/json', 'X-Request-Id': 'req-cli-1' };
    const space = (await (
      await fetch(`${ready!.url}/spaces`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ label: 'logs' }),
      })
    ).json()) as { id: string };
    const [root] = (await (await fetch(`${ready!.url}/spaces/${space.id}/sessions`, { headers })).json()) as {
      id: string;
    }[];
    const turn = await fetch(`${ready!.url}/spaces/${space.id}/sessions/${root!.id}/turn`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ input: prompt }),
    });
    expect(turn.status).toBe(200);

    controller.abort();
    expect(await running).toBe(0);
    const entries = stdout.map((l) => JSON.parse(l));
    expect(entries.some((entry) => entry.event === 'server.closed')).toBe(true);
    expect(entries.find((entry) => entry.event === 'turn')).toMatchObject({
      requestId: 'req-cli-1',
      level: 'info',
    });
    // Neither the key nor the prompt reaches the log.
    expect(stdout.join('\n')).not.toContain(apiKey);
    expect(stdout.join('\n')).not.toContain(prompt);
  });

  it('logs only from LOG_LEVEL up, and refuses an unknown level', async () => {
    const bad = await cli(['serve', '--port', '0'], { ...env, LOG_LEVEL: 'loud' });
    expect(bad.code).toBe(2);
    expect(bad.stderr.join('\n')).toContain('LOG_LEVEL');

    const controller = new AbortController();
    const stdout: string[] = [];
    const running = runCli(['serve', '--port', '0'], {
      env: { DATABASE_URL: db.url, LOG_LEVEL: 'warn', STELLO_PREPARED_STATEMENTS: 'off' },
      stdout: (line) => stdout.push(line),
      stderr: () => {},
      signal: controller.signal,
    });
    // The offline model's warning is the one line a quiet server writes at start-up.
    const deadline = Date.now() + 15_000;
    while (!stdout.some((l) => JSON.parse(l).event === 'server.offline_model') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    controller.abort();
    expect(await running).toBe(0);
    const levels = stdout.map((l) => JSON.parse(l).level);
    expect(levels).toContain('warn');
    expect(levels).not.toContain('info');
  });
});
