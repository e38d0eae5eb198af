import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EHarness, startHarness, WsTestClient } from './__fixtures__/e2e-harness';

// Memory work on demand over REST and WebSocket, on a real server with a fake OpenAI endpoint: the
// model answers consolidations with a summary and integrations with the JSON the default expects.

describe('memory on demand', () => {
  let db: TestDatabase;
  let h: E2EHarness;
  let spaceId: string;
  let rootId: string;
  let childId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    h = await startHarness(db.pool, {
      fake: {
        script: (request) => {
          const system = String(request.body.messages?.[0]?.content ?? '');
          if (system.includes('"synthesis"')) {
            const sessionIds = [...JSON.stringify(request.body).matchAll(/[0-9a-f]{8}-[0-9a-f-]{27}/g)].map(
              (match) => match[0],
            );
            const insights = sessionIds
              .filter((id) => id !== rootId)
              .slice(0, 1)
              .map((sessionId) => ({ sessionId, content: 'look at tides' }));
            return { content: JSON.stringify({ synthesis: 'the user studies the sea', insights }) };
          }
          if (request.body.messages?.some((m: { content?: string }) => m.content?.includes('waves'))) {
            return { content: 'summary: waves' };
          }
          return { content: 'ok' };
        },
      },
    });
    spaceId = (await h.api('POST', '/spaces', { label: 'Sea' })).body.id;
    rootId = (await h.api('GET', `/spaces/${spaceId}/sessions`)).body[0].id;
    childId = (await h.api('POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, { label: 'waves' })).body.id;
    await h.api('POST', `/spaces/${spaceId}/sessions/${childId}/turn`, { input: 'tell me about waves' });
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  it('consolidates a session over REST and returns its new memory, which the memory route then reads', async () => {
    const response = await h.api('POST', `/spaces/${spaceId}/sessions/${childId}/consolidate`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ sessionId: childId, memory: 'summary: waves' });
    expect((await h.api('GET', `/spaces/${spaceId}/sessions/${childId}/memory`)).body).toEqual({
      content: 'summary: waves',
    });
  });

  it('refuses the root with 409 INVALID_OPERATION and an unknown session with 404', async () => {
    const root = await h.api('POST', `/spaces/${spaceId}/sessions/${rootId}/consolidate`);
    expect(root.status).toBe(409);
    expect(root.body).toMatchObject({ code: 'INVALID_OPERATION' });
    const unknown = await h.api(
      'POST',
      `/spaces/${spaceId}/sessions/00000000-0000-4000-8000-000000000000/consolidate`,
    );
    expect(unknown.status).toBe(404);
  });

  it('integrates over REST: the synthesis and the insights it sent', async () => {
    const response = await h.api('POST', `/spaces/${spaceId}/integrate`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      synthesis: 'the user studies the sea',
      insights: [{ sessionId: childId, content: 'look at tides' }],
    });
    expect((await h.api('GET', `/spaces/${spaceId}/sessions/${childId}/insight`)).body).toEqual({
      content: 'look at tides',
    });
  });

  it('does both over WebSocket', async () => {
    const ws = await WsTestClient.connect(h.wsUrl(spaceId), h.apiKey);
    try {
      ws.send({ type: 'session.consolidate', sessionId: childId });
      expect(await ws.expect('session.consolidated')).toEqual({
        type: 'session.consolidated',
        sessionId: childId,
        memory: 'summary: waves',
      });
      // Without a session id and outside a session: NOT_ENTERED.
      ws.send({ type: 'session.consolidate' });
      expect(await ws.expect('error')).toMatchObject({ code: 'NOT_ENTERED' });
      ws.send({ type: 'space.integrate' });
      expect(await ws.expect('space.integrated')).toMatchObject({ synthesis: 'the user studies the sea' });
    } finally {
      await ws.close();
    }
  });

  it('refuses an archived session with 409 SESSION_ARCHIVED', async () => {
    await h.api('POST', `/spaces/${spaceId}/sessions/${childId}/archive`);
    const response = await h.api('POST', `/spaces/${spaceId}/sessions/${childId}/consolidate`);
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ code: 'SESSION_ARCHIVED' });
  });
});
