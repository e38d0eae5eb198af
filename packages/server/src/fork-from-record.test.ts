import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EHarness, startHarness, WsTestClient } from './__fixtures__/e2e-harness';

// Fork from an earlier message over REST and WebSocket, on PostgreSQL: the message ids of
// `GET …/messages` name the record, and the child starts from that point of the conversation.

describe('fork from an earlier message', () => {
  let db: TestDatabase;
  let h: E2EHarness;
  let spaceId: string;
  let rootId: string;
  let messages: Array<{ id: string; role: string; content: string }>;

  beforeAll(async () => {
    db = await createTestDatabase();
    h = await startHarness(db.pool);
    spaceId = (await h.api('POST', '/spaces', { label: 'Branches' })).body.id;
    rootId = (await h.api('GET', `/spaces/${spaceId}/sessions`)).body[0].id;
    for (const input of ['one', 'two', 'three']) {
      await h.api('POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, { input });
    }
    messages = (await h.api('GET', `/spaces/${spaceId}/sessions/${rootId}/messages`)).body;
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  it('seeds the child over REST with the history up to and including the record', async () => {
    expect(messages).toHaveLength(6);
    const second = messages[3]!;
    const child = await h.api('POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, {
      label: 'from two',
      fromRecordId: second.id,
    });
    expect(child.status).toBe(201);
    const copied = (await h.api('GET', `/spaces/${spaceId}/sessions/${child.body.id}/messages`)).body;
    expect(copied.map((m: { content: string }) => m.content)).toEqual(
      messages.slice(0, 4).map((m) => m.content),
    );
  });

  it('answers 404 RECORD_NOT_FOUND for a record of another session and 400 for context none', async () => {
    const other = (await h.api('POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, { label: 'other' })).body
      .id;
    const foreign = await h.api('POST', `/spaces/${spaceId}/sessions/${other}/fork`, {
      label: 'x',
      fromRecordId: messages[0]!.id,
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toMatchObject({ code: 'RECORD_NOT_FOUND' });
    const none = await h.api('POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, {
      label: 'x',
      fromRecordId: messages[0]!.id,
      context: 'none',
    });
    expect(none.status).toBe(400);
  });

  it('accepts the same field in the WebSocket session.fork', async () => {
    const ws = await WsTestClient.connect(h.wsUrl(spaceId), h.apiKey);
    try {
      ws.send({ type: 'session.enter', sessionId: rootId });
      await ws.expect('session.entered');
      ws.send({ type: 'session.fork', options: { label: 'ws branch', fromRecordId: messages[1]!.id } });
      const { child } = await ws.expect('session.forked');
      const copied = (await h.api('GET', `/spaces/${spaceId}/sessions/${child.id}/messages`)).body;
      expect(copied.map((m: { content: string }) => m.content)).toEqual(
        messages.slice(0, 2).map((m) => m.content),
      );
    } finally {
      await ws.close();
    }
  });
});
