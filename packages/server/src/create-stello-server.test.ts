import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { createOfflineAdapter } from '@stello-ai/session';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EHarness, startHarness, WsTestClient } from './__fixtures__/e2e-harness';
import { createStelloServer } from './create-stello-server';

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function createSpace(h: E2EHarness, label: string): Promise<{ spaceId: string; rootId: string }> {
  const created = await h.api('POST', '/spaces', { label, systemPrompt: 'You are helpful.' });
  expect(created.status).toBe(201);
  const sessions = await h.api('GET', `/spaces/${created.body.id}/sessions`);
  expect(sessions.status).toBe(200);
  return { spaceId: created.body.id, rootId: sessions.body[0].id };
}

describe('createStelloServer', () => {
  let db: TestDatabase;
  let h: E2EHarness;

  beforeAll(async () => {
    db = await createTestDatabase();
    h = await startHarness(db.pool);
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  it('serves the REST flow: create space, list sessions, turn, messages', async () => {
    const created = await h.api('POST', '/spaces', { label: 'REST flow', systemPrompt: 'You are helpful.' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ label: 'REST flow', systemPrompt: 'You are helpful.' });

    const sessions = await h.api('GET', `/spaces/${created.body.id}/sessions`);
    expect(sessions.status).toBe(200);
    expect(sessions.body).toHaveLength(1);
    const root = sessions.body[0];
    expect(root).toMatchObject({ parentId: null, depth: 0, label: 'REST flow', turnCount: 0 });

    const turn = await h.api('POST', `/spaces/${created.body.id}/sessions/${root.id}/turn`, {
      input: 'What is Stello?',
    });
    expect(turn.status).toBe(200);
    expect(turn.body.turn).toMatchObject({ finalContent: 'Echo: What is Stello?', toolRoundCount: 0 });

    const messages = await h.api('GET', `/spaces/${created.body.id}/sessions/${root.id}/messages`);
    expect(messages.status).toBe(200);
    expect(messages.body.map((m: { role: string; content: string }) => [m.role, m.content])).toEqual([
      ['user', 'What is Stello?'],
      ['assistant', 'Echo: What is Stello?'],
    ]);
    // The system prompt of the space reached the model.
    const request = h.fake.requests.at(-1);
    expect(JSON.stringify(request?.body.messages)).toContain('You are helpful.');
  });

  it('serves the WebSocket flow: enter, stream deltas then end, fork, leave', async () => {
    const { spaceId, rootId } = await createSpace(h, 'WS flow');
    const ws = await WsTestClient.connect(h.wsUrl(spaceId), h.apiKey);
    try {
      ws.send({ type: 'session.enter', sessionId: rootId });
      const entered = await ws.expect('session.entered');
      expect(entered.sessionId).toBe(rootId);
      expect(entered.bootstrap.session.id).toBe(rootId);

      const { deltas, end } = await ws.stream('Explain in detail.');
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.join('')).toBe('Echo: Explain in detail.');
      expect(end.result.turn.finalContent).toBe('Echo: Explain in detail.');

      ws.send({ type: 'session.fork', options: { label: 'Sub Topic', scope: 'coding' } });
      const forked = await ws.expect('session.forked');
      expect(forked.child).toMatchObject({ parentId: rootId, label: 'Sub Topic', scope: 'coding', depth: 1 });

      ws.send({ type: 'session.leave' });
      expect((await ws.expect('session.left')).sessionId).toBe(rootId);
    } finally {
      await ws.close();
    }
    const sessions = await h.api('GET', `/spaces/${spaceId}/sessions`);
    expect(sessions.body).toHaveLength(2);
    const root = sessions.body.find((s: { id: string }) => s.id === rootId);
    expect(root.turnCount).toBe(1);
  });

  it('records 20 concurrent turns on one session from REST and WS one at a time', async () => {
    const { spaceId, rootId } = await createSpace(h, 'Concurrency');
    const sockets = await Promise.all(
      Array.from({ length: 5 }, () => WsTestClient.connect(h.wsUrl(spaceId), h.apiKey)),
    );
    try {
      for (const ws of sockets) ws.send({ type: 'session.enter', sessionId: rootId });
      await Promise.all(sockets.map((ws) => ws.expect('session.entered')));

      // 10 REST turns, and 10 over WS (two per socket: a message and a stream, queued in order).
      const rest = Array.from({ length: 10 }, (_, i) =>
        h.api('POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, { input: `rest ${i}` }),
      );
      const ws = sockets.map(async (socket, i) => {
        socket.send({ type: 'session.message', input: `ws message ${i}` });
        const complete = await socket.expect('turn.complete');
        const streamed = await socket.stream(`ws stream ${i}`);
        return [complete.result.turn.finalContent, streamed.end.result.turn.finalContent];
      });
      const restResults = await Promise.all(rest);
      const wsResults = (await Promise.all(ws)).flat();
      for (const result of restResults) expect(result.status).toBe(200);
      expect(wsResults).toHaveLength(10);

      const messages = await h.api('GET', `/spaces/${spaceId}/sessions/${rootId}/messages`);
      const records: Array<{ role: string; content: string }> = messages.body;
      expect(records).toHaveLength(40);
      const inputs = new Set<string>();
      for (let i = 0; i < records.length; i += 2) {
        const user = records[i]!;
        const assistant = records[i + 1]!;
        expect(user.role).toBe('user');
        expect(assistant.role).toBe('assistant');
        // The answer follows its own question: no other turn slipped in between.
        expect(assistant.content).toBe(`Echo: ${user.content}`);
        inputs.add(user.content);
      }
      expect(inputs.size).toBe(20);

      const session = await h.api('GET', `/spaces/${spaceId}/sessions/${rootId}`);
      expect(session.body.turnCount).toBe(20);
    } finally {
      await Promise.all(sockets.map((ws) => ws.close()));
    }
  });

  it('completes and stores a streamed turn when the client disconnects mid-stream', async () => {
    const { spaceId, rootId } = await createSpace(h, 'Disconnect');
    h.fake.setScript([{ content: 'one two three four five six seven eight' }]);
    const ws = await WsTestClient.connect(h.wsUrl(spaceId), h.apiKey);
    ws.send({ type: 'session.enter', sessionId: rootId });
    await ws.expect('session.entered');
    const requestIndex = h.fake.requests.length;
    ws.send({ type: 'session.stream', input: 'tell me a long story' });
    expect((await ws.expect('stream.delta')).chunk).not.toBe('');
    ws.socket.terminate();
    await ws.closed;

    expect(await h.fake.waitForOutcome(requestIndex)).toBe('completed');
    const records = await waitFor(async () => {
      const messages = await h.api('GET', `/spaces/${spaceId}/sessions/${rootId}/messages`);
      return messages.body.length === 2 ? messages.body : undefined;
    }, 'the turn to be stored');
    expect(records[1]).toMatchObject({
      role: 'assistant',
      content: 'one two three four five six seven eight',
    });
    h.fake.setScript();
  });

  it('answers /healthz and /readyz without a key', async () => {
    const health = await fetch(`${h.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${h.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('rejects requests without a valid key', async () => {
    expect((await h.api('GET', '/spaces', undefined, 'stello_not-a-real-key-at-all')).status).toBe(401);
  });
});

describe('createStelloServer readiness', () => {
  it('reports not ready when PostgreSQL does not answer', async () => {
    // Port 9 (discard) on loopback refuses connections: a pool that can never connect.
    const deadPool = new pg.Pool({
      host: '127.0.0.1',
      port: 9,
      user: 'nobody',
      connectionTimeoutMillis: 500,
    });
    deadPool.on('error', () => {});
    try {
      const server = await createStelloServer({
        pool: deadPool,
        skipMigrate: true,
        agentPoolOptions: { model: createOfflineAdapter() },
      });
      expect((await server.app.request('/healthz')).status).toBe(200);
      expect((await server.app.request('/readyz')).status).toBe(503);
    } finally {
      await deadPool.end();
    }
  });
});

describe('StelloServer.listen().close()', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('lets a running turn finish, closes sockets with 1001 and keeps the pool open', async () => {
    // Eight chunks, 150 ms apart: the turn is still running when close() starts.
    const h = await startHarness(db.pool, { fake: { chunkCount: 8, chunkDelayMs: 150 } });
    let closed = false;
    try {
      const { spaceId, rootId } = await createSpace(h, 'Drain');
      const ws = await WsTestClient.connect(h.wsUrl(spaceId), h.apiKey);
      const requestIndex = h.fake.requests.length;
      const turn = h.api('POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, {
        input: 'a slow question that needs many words',
      });
      await waitFor(
        async () => (h.fake.requests.length > requestIndex ? true : undefined),
        'the LLM request',
      );

      await h.listening.close();
      closed = true;
      expect((await ws.closed).code).toBe(1001);
      const result = await turn;
      expect(result.status).toBe(200);
      expect(result.body.turn.finalContent).toBe('Echo: a slow question that needs many words');

      // The caller's pool still works, and the turn was committed.
      const stored = await db.pool.query<{ count: number }>(
        'SELECT count(*)::int AS count FROM records WHERE session_id = $1',
        [rootId],
      );
      expect(stored.rows[0]?.count).toBe(2);
      await expect(fetch(`${h.baseUrl}/healthz`)).rejects.toThrow();
      await expect(h.server.listen(0)).rejects.toMatchObject({ code: 'SERVER_CLOSED' });
    } finally {
      if (!closed) await h.listening.close();
      await h.fake.close();
    }
  });

  it('refuses to listen twice at once', async () => {
    const server = await createStelloServer({
      pool: db.pool,
      skipMigrate: true,
      agentPoolOptions: { model: createOfflineAdapter() },
    });
    const listening = await server.listen(0);
    try {
      await expect(server.listen(0)).rejects.toMatchObject({ code: 'ALREADY_LISTENING' });
    } finally {
      await listening.close();
    }
  });
});
