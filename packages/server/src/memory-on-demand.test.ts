import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EHarness, startHarness } from './__fixtures__/e2e-harness';

// Memory work on demand over REST and WebSocket through @stello-ai/client, on a real server with a
// fake OpenAI endpoint: the model answers consolidations with a summary and integrations with the JSON the default expects.

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
    const { client } = h;
    spaceId = (await client.spaces.create({ label: 'Sea' })).id;
    rootId = (await client.sessions.list({ spaceId }))[0]!.id;
    childId = (await client.sessions.fork({ spaceId, sessionId: rootId }, { label: 'waves' })).id;
    await client.turns.send({ spaceId, sessionId: childId, input: 'tell me about waves' });
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  it('consolidates a session over REST and returns its new memory, which the memory route then reads', async () => {
    const child = { spaceId, sessionId: childId };
    expect(await h.client.sessions.consolidate(child)).toEqual({
      sessionId: childId,
      memory: 'summary: waves',
    });
    expect(await h.client.sessions.getSlot({ ...child, slot: 'memory' })).toBe('summary: waves');
  });

  it('refuses the root with 409 INVALID_OPERATION and an unknown session with 404', async () => {
    await expect(h.client.sessions.consolidate({ spaceId, sessionId: rootId })).rejects.toMatchObject({
      status: 409,
      code: 'INVALID_OPERATION',
    });
    await expect(
      h.client.sessions.consolidate({ spaceId, sessionId: '00000000-0000-4000-8000-000000000000' }),
    ).rejects.toMatchObject({ status: 404, code: 'SESSION_NOT_FOUND' });
  });

  it('integrates over REST: the synthesis and the insights it sent', async () => {
    expect(await h.client.spaces.integrate({ spaceId })).toEqual({
      synthesis: 'the user studies the sea',
      insights: [{ sessionId: childId, content: 'look at tides' }],
    });
    expect(await h.client.sessions.getSlot({ spaceId, sessionId: childId, slot: 'insight' })).toBe(
      'look at tides',
    );
  });

  it('does both over WebSocket', async () => {
    const connection = await h.client.connect(spaceId);
    try {
      expect(await connection.consolidate({ sessionId: childId })).toEqual({
        sessionId: childId,
        memory: 'summary: waves',
      });
      // Without a session id and outside a session: NOT_ENTERED.
      await expect(connection.consolidate()).rejects.toMatchObject({ code: 'NOT_ENTERED' });
      expect(await connection.integrate()).toMatchObject({ synthesis: 'the user studies the sea' });
    } finally {
      connection.close();
    }
  });

  it('refuses an archived session with 409 SESSION_ARCHIVED', async () => {
    await h.client.sessions.archive({ spaceId, sessionId: childId });
    await expect(h.client.sessions.consolidate({ spaceId, sessionId: childId })).rejects.toMatchObject({
      status: 409,
      code: 'SESSION_ARCHIVED',
    });
  });
});
