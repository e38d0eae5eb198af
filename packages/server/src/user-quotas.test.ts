import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EHarness, startHarness, WsTestClient } from './__fixtures__/e2e-harness';

// Quotas per user (spaces, sessions, stored bytes) and the cap on turns a user runs at once, on a
// real server: each limit answers with its code, and freeing room admits again.

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
    const first = await h.api('POST', '/spaces', { label: 'one' });
    expect((await h.api('POST', '/spaces', { label: 'two' })).status).toBe(201);
    const third = await h.api('POST', '/spaces', { label: 'three' });
    expect(third.status).toBe(403);
    expect(third.body).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      details: { quota: 'spacesPerUser', limit: 2 },
    });
    // Nothing half-written: still two spaces.
    expect((await h.api('GET', '/spaces')).body).toHaveLength(2);

    expect((await h.api('DELETE', `/spaces/${first.body.id}`)).status).toBe(204);
    expect((await h.api('POST', '/spaces', { label: 'three' })).status).toBe(201);
  });

  it('refuses forks past the sessions quota, over REST and WebSocket', async () => {
    const spaces = (await h.api('GET', '/spaces')).body as Array<{ id: string }>;
    // Two spaces hold two roots: two more sessions fit.
    const spaceId = spaces[0]!.id;
    const rootId = (await h.api('GET', `/spaces/${spaceId}/sessions`)).body[0].id;
    const fork = (label: string) => h.api('POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, { label });
    expect((await fork('a')).status).toBe(201);
    expect((await fork('b')).status).toBe(201);
    const refused = await fork('c');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { quota: 'sessionsPerUser' } });

    const ws = await WsTestClient.connect(h.wsUrl(spaceId), h.apiKey);
    try {
      ws.send({ type: 'session.enter', sessionId: rootId });
      await ws.expect('session.entered');
      ws.send({ type: 'session.fork', options: { label: 'd' } });
      expect(await ws.expect('error')).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    } finally {
      await ws.close();
    }
    expect((await h.api('GET', `/spaces/${spaceId}/sessions`)).body).toHaveLength(3);
  });

  it('refuses turns once the stored bytes reach the quota (seen within the 2 s usage refresh)', async () => {
    const spaceId = ((await h.api('GET', '/spaces')).body as Array<{ id: string }>)[1]!.id;
    const rootId = (await h.api('GET', `/spaces/${spaceId}/sessions`)).body[0].id;
    const turn = () =>
      h.api('POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, { input: 'x'.repeat(200) });
    // The fake model echoes: 400 bytes per turn; the second passes the 600-byte quota.
    expect((await turn()).status).toBe(200);
    expect((await turn()).status).toBe(200);
    const deadline = Date.now() + 5_000;
    let refused: Awaited<ReturnType<typeof turn>> | undefined;
    let admittedAfter = 0;
    while (Date.now() < deadline) {
      const answer = await turn();
      if (answer.status === 403) {
        refused = answer;
        break;
      }
      admittedAfter += 1;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(refused?.body).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { quota: 'storedBytesPerUser' } });
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
