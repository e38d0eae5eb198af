import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EHarness, startHarness } from './__fixtures__/e2e-harness';

// Quotas per user (spaces, sessions, stored bytes), through @stello-ai/client, and the cap on turns a
// user runs at once, on a real server: each limit answers with its code, and freeing room admits again.

describe('per-user quotas', () => {
  let db: TestDatabase;
  let h: E2EHarness;

  beforeAll(async () => {
    db = await createTestDatabase();
    h = await startHarness(db.pool, {
      server: { limits: { spacesPerUser: 2, sessionsPerUser: 4, storedBytesPerUser: 600 } },
    });
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  it('refuses a space past the spaces quota with 403 QUOTA_EXCEEDED, and admits again after a delete', async () => {
    const { client } = h;
    const first = await client.spaces.create({ label: 'one' });
    await client.spaces.create({ label: 'two' });
    await expect(client.spaces.create({ label: 'three' })).rejects.toMatchObject({
      status: 403,
      code: 'QUOTA_EXCEEDED',
      details: { quota: 'spacesPerUser', limit: 2 },
    });
    // Nothing half-written: still two spaces.
    expect((await client.spaces.list()).items).toHaveLength(2);

    await client.spaces.delete({ spaceId: first.id });
    await client.spaces.create({ label: 'three' });
  });

  it('refuses forks past the sessions quota, over REST and WebSocket', async () => {
    const { client } = h;
    // Two spaces hold two roots: two more sessions fit.
    const spaceId = (await client.spaces.list()).items[0]!.id;
    const rootId = (await client.sessions.list({ spaceId }))[0]!.id;
    const fork = (label: string) => client.sessions.fork({ spaceId, sessionId: rootId }, { label });
    await fork('a');
    await fork('b');
    await expect(fork('c')).rejects.toMatchObject({
      status: 403,
      code: 'QUOTA_EXCEEDED',
      details: { quota: 'sessionsPerUser' },
    });

    const connection = await client.connect(spaceId);
    try {
      await connection.enter(rootId);
      await expect(connection.fork({ label: 'd' })).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    } finally {
      connection.close();
    }
    expect(await client.sessions.list({ spaceId })).toHaveLength(3);
  });

  it('refuses turns once the stored bytes reach the quota (seen within the 2 s usage refresh)', async () => {
    const { client } = h;
    const spaceId = (await client.spaces.list()).items[1]!.id;
    const rootId = (await client.sessions.list({ spaceId }))[0]!.id;
    const turn = () =>
      client.turns.send({ spaceId, sessionId: rootId, input: 'x'.repeat(200), retry: false });
    // The fake model echoes: 400 bytes per turn; the second passes the 600-byte quota.
    await turn();
    await turn();
    const deadline = Date.now() + 5_000;
    let refused: unknown;
    let admittedAfter = 0;
    while (Date.now() < deadline) {
      try {
        await turn();
      } catch (error) {
        refused = error;
        break;
      }
      admittedAfter += 1;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(refused).toMatchObject({
      status: 403,
      code: 'QUOTA_EXCEEDED',
      details: { quota: 'storedBytesPerUser' },
    });
    // At most the turns of one refresh interval pass the quota.
    expect(admittedAfter).toBeLessThanOrEqual(5);
  });
});

describe('turns one user runs at once', () => {
  let db: TestDatabase;
  let h: E2EHarness;
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let firstRequest: () => void = () => {};
  const firstArrived = new Promise<void>((resolve) => {
    firstRequest = resolve;
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    let requests = 0;
    h = await startHarness(db.pool, {
      server: { limits: { runningTurnsPerUser: 1 } },
      fake: {
        script: async () => {
          requests += 1;
          if (requests === 1) {
            firstRequest();
            await held;
          }
          return { content: 'done' };
        },
      },
    });
  });
  afterAll(async () => {
    release();
    await h?.close();
    await db?.drop();
  });

  it('answers 429 TOO_MANY_TURNS with Retry-After past the cap, and admits once a turn ended', async () => {
    const spaceId = (await h.api('POST', '/spaces', { label: 'busy' })).body.id;
    const rootId = (await h.api('GET', `/spaces/${spaceId}/sessions`)).body[0].id;
    const child = (await h.api('POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, { label: 'c' })).body;
    const running = h.api('POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, { input: 'first' });
    await firstArrived;

    // Raw fetch: the subject is the HTTP answer itself (status and Retry-After header).
    const response = await fetch(`${h.baseUrl}/spaces/${spaceId}/sessions/${child.id}/turn`, {
      method: 'POST',
      headers: { 'X-API-Key': h.apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ input: 'second' }),
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({ code: 'TOO_MANY_TURNS' });

    // The SSE route is bounded by the same cap.
    const stream = await h.api('POST', `/spaces/${spaceId}/sessions/${child.id}/stream`, { input: 'third' });
    expect(stream.status).toBe(429);

    release();
    expect((await running).status).toBe(200);
    expect(
      (await h.api('POST', `/spaces/${spaceId}/sessions/${child.id}/turn`, { input: 'again' })).status,
    ).toBe(200);
  });
});
