import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeChild, startServeChild } from './__fixtures__/serve-child';
import { runCli } from './commands/run-cli';

// Issue #14 "done when": a subtree exported through one `stello serve` process and imported
// through another (one database) reads back identical; the same through `stello spaces`.

interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary fields of the JSON body
  body: any;
}

async function cli(argv: string[], env: Record<string, string>) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(argv, {
    env,
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
  });
  return { code, stdout, stderr };
}

/** The `data:` of each SSE event of a space, collected until `stop()`. */
async function subscribe(url: string, spaceId: string, apiKey: string) {
  const controller = new AbortController();
  const response = await fetch(`${url}/spaces/${spaceId}/events`, {
    headers: { 'X-API-Key': apiKey },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const events: Array<{ kind: string; sessionId?: string }> = [];
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
          buffer = buffer.slice(end + 2);
          if (data) events.push(JSON.parse(data));
        }
      }
    } catch {
      // Aborted at the end of the test.
    }
  })();
  return { events, stop: () => controller.abort() };
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('subtree export/import across two server processes and the CLI', () => {
  let db: TestDatabase;
  let dir: string;
  const servers: ServeChild[] = [];
  const apiKey = `stello_${randomBytes(32).toString('base64url')}`;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(join(tmpdir(), 'stello-subtree-'));
    for (let i = 0; i < 2; i += 1)
      servers.push(await startServeChild({ DATABASE_URL: db.url, STELLO_API_KEY: apiKey }));
  }, 120_000);

  afterAll(async () => {
    for (const server of servers) if (server.process.exitCode === null) server.process.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
    await db?.drop();
  });

  const call = async (url: string, method: string, path: string, body?: unknown): Promise<Reply> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { 'X-API-Key': apiKey, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : JSON.parse(text) };
  };

  async function newSpace(url: string, label: string): Promise<{ spaceId: string; rootId: string }> {
    const space = await call(url, 'POST', '/spaces', { label });
    const sessions = await call(url, 'GET', `/spaces/${space.body.id}/sessions`);
    return { spaceId: space.body.id, rootId: sessions.body[0].id };
  }

  it('exports through one process, imports through the other, and reads back identical', async () => {
    const [a, b] = servers as [ServeChild, ServeChild];
    const source = await newSpace(a.url, 'source');
    const base = `/spaces/${source.spaceId}/sessions`;
    const branch = (await call(a.url, 'POST', `${base}/${source.rootId}/fork`, { label: 'Branch' })).body.id;
    const leaf = (await call(a.url, 'POST', `${base}/${branch}/fork`, { label: 'Leaf', scope: 'deep' })).body
      .id;
    expect((await call(a.url, 'POST', `${base}/${branch}/turn`, { input: 'about the branch' })).status).toBe(
      200,
    );
    expect((await call(b.url, 'POST', `${base}/${leaf}/turn`, { input: 'about the leaf' })).status).toBe(200);
    await call(a.url, 'PUT', `${base}/${leaf}/system-prompt`, { content: 'Leaf prompt.' });

    const exported = await call(a.url, 'GET', `${base}/${branch}/export`);
    expect(exported.status).toBe(200);
    expect(exported.body.sessions).toHaveLength(2);

    const target = await newSpace(a.url, 'target');
    // A subscriber on process A hears the sessions process B creates.
    const subscriber = await subscribe(a.url, target.spaceId, apiKey);
    const imported = await call(
      b.url,
      'POST',
      `/spaces/${target.spaceId}/sessions/${target.rootId}/import`,
      exported.body,
    );
    expect(imported.status).toBe(201);
    const { idMap } = imported.body;
    await waitFor(
      () => subscriber.events.filter((event) => event.kind === 'session.created').length === 2,
      'two session.created events on process A',
    );
    subscriber.stop();
    expect(subscriber.events.map((event) => event.sessionId)).toEqual([idMap.s0, idMap.s1]);

    // Process A (whose agent for the target space is already warm) reads the copy as written.
    const again = await call(a.url, 'GET', `/spaces/${target.spaceId}/sessions/${idMap.s0}/export`);
    expect(again.body).toEqual(exported.body);
    const leafCopy = await call(a.url, 'GET', `/spaces/${target.spaceId}/sessions/${idMap.s1}/messages`);
    const leafOriginal = await call(a.url, 'GET', `${base}/${leaf}/messages`);
    // Same records; the copies have record ids of their own.
    const withoutIds = (records: Array<Record<string, unknown>>) =>
      records.map(({ id: _id, ...rest }) => rest);
    expect(withoutIds(leafCopy.body)).toEqual(withoutIds(leafOriginal.body));
    expect(leafCopy.body[0].id).not.toBe(leafOriginal.body[0].id);
    expect(
      (await call(a.url, 'POST', `/spaces/${target.spaceId}/sessions/${idMap.s1}/turn`, { input: 'go on' }))
        .status,
    ).toBe(200);

    // Archived through B: A refuses turns on the whole copy.
    const archived = await call(
      b.url,
      'POST',
      `/spaces/${target.spaceId}/sessions/${idMap.s0}/archive-subtree`,
    );
    expect(archived.body.archivedIds).toEqual([idMap.s0, idMap.s1]);
    const refused = await call(a.url, 'POST', `/spaces/${target.spaceId}/sessions/${idMap.s1}/turn`, {
      input: 'x',
    });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('SESSION_ARCHIVED');
  }, 60_000);

  it('round-trips through `stello spaces export` and `stello spaces import`', async () => {
    const [a, b] = servers as [ServeChild, ServeChild];
    const env = { DATABASE_URL: db.url };
    const source = await newSpace(a.url, 'cli source');
    const base = `/spaces/${source.spaceId}/sessions`;
    const branch = (await call(a.url, 'POST', `${base}/${source.rootId}/fork`, { label: 'CLI branch' })).body
      .id;
    await call(a.url, 'POST', `${base}/${branch}/turn`, { input: 'hello' });

    // The whole tree by default, to standard output.
    const whole = await cli(['spaces', 'export', source.spaceId], env);
    expect(whole.code).toBe(0);
    expect(JSON.parse(whole.stdout.join('\n')).sessions.map((s: { label: string }) => s.label)).toEqual([
      'cli source',
      'CLI branch',
    ]);

    const file = join(dir, 'branch.json');
    const exported = await cli(['spaces', 'export', source.spaceId, '--session', branch, '--out', file], env);
    expect(exported.code).toBe(0);
    expect(exported.stderr.join('\n')).toContain('exported 1 sessions and 2 records');
    const doc = JSON.parse(await readFile(file, 'utf8'));

    const target = await newSpace(b.url, 'cli target');
    const parent = (
      await call(b.url, 'POST', `/spaces/${target.spaceId}/sessions/${target.rootId}/fork`, {
        label: 'Inbox',
      })
    ).body.id;
    const imported = await cli(['spaces', 'import', target.spaceId, '--parent', parent, file], env);
    expect(imported.code, imported.stderr.join('\n')).toBe(0);
    const result = JSON.parse(imported.stdout.join('\n'));
    expect(result).toMatchObject({ parentId: parent, sessions: 1, records: 2 });

    const readBack = await call(b.url, 'GET', `/spaces/${target.spaceId}/sessions/${result.rootId}/export`);
    expect(readBack.body).toEqual(doc);
    const info = await call(a.url, 'GET', `/spaces/${target.spaceId}/sessions/${result.rootId}`);
    expect(info.body).toMatchObject({ parentId: parent, label: 'CLI branch', depth: 2 });

    // Without --parent: under the space's root.
    const underRoot = await cli(['spaces', 'import', target.spaceId, file], env);
    expect(JSON.parse(underRoot.stdout.join('\n')).parentId).toBe(target.rootId);
  });

  it('reports bad command lines, unknown spaces and bad documents', async () => {
    const env = { DATABASE_URL: db.url };
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ format: 'stello.subtree', version: 1, sessions: [{ id: 's0' }] }));
    const space = await newSpace((servers[0] as ServeChild).url, 'cli errors');

    expect((await cli(['spaces', 'export'], env)).code).toBe(2);
    expect((await cli(['spaces', 'export', 'not-a-uuid'], env)).code).toBe(2);
    expect((await cli(['spaces', 'import', space.spaceId], env)).code).toBe(2);
    expect((await cli(['spaces', 'export', space.spaceId, '--max-sessions', '0'], env)).code).toBe(2);

    const unknown = await cli(['spaces', 'export', crypto.randomUUID()], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.join('\n')).toMatch(/no space/);

    const invalid = await cli(['spaces', 'import', space.spaceId, bad], env);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr.join('\n')).toContain('document.sessions[0]');
    expect(invalid.stderr.join('\n')).toContain('INVALID_ARGUMENT');

    const tooLarge = await cli(['spaces', 'export', space.spaceId, '--max-records', '1'], env);
    expect(tooLarge.code).toBe(0);
    await call(
      (servers[0] as ServeChild).url,
      'POST',
      `/spaces/${space.spaceId}/sessions/${space.rootId}/turn`,
      {
        input: 'one turn: two records',
      },
    );
    const over = await cli(['spaces', 'export', space.spaceId, '--max-records', '1'], env);
    expect(over.code).toBe(1);
    expect(over.stderr.join('\n')).toContain('SUBTREE_TOO_LARGE');

    const help = await cli(['spaces', '--help'], env);
    expect(help.stdout.join('\n')).toContain('stello spaces <export|import>');
  });
});
