import { createTestDatabase, type TestDatabase } from '@internal/testing';
import type { RecordView } from '@stello-ai/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EHarness, startHarness } from './__fixtures__/e2e-harness';

// Fork from an earlier message over REST and WebSocket through @stello-ai/client, on PostgreSQL:
// the message ids of `GET …/messages` name the record, and the child starts from that point.

describe('fork from an earlier message', () => {
  let db: TestDatabase;
  let h: E2EHarness;
  let spaceId: string;
  let rootId: string;
  let messages: RecordView[];

  const contents = async (sessionId: string) =>
    (await h.client.sessions.messages({ spaceId, sessionId })).items.map((message) => message.content);

  beforeAll(async () => {
    db = await createTestDatabase();
    h = await startHarness(db.pool);
    spaceId = (await h.client.spaces.create({ label: 'Branches' })).id;
    rootId = (await h.client.sessions.list({ spaceId }))[0]!.id;
    for (const input of ['one', 'two', 'three']) {
      await h.client.turns.send({ spaceId, sessionId: rootId, input });
    }
    messages = (await h.client.sessions.messages({ spaceId, sessionId: rootId })).items;
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  it('seeds the child over REST with the history up to and including the record', async () => {
    expect(messages).toHaveLength(6);
    const child = await h.client.sessions.fork(
      { spaceId, sessionId: rootId },
      { label: 'from two', fromRecordId: messages[3]!.id },
    );
    expect(child).toMatchObject({ parentId: rootId, label: 'from two' });
    expect(await contents(child.id)).toEqual(messages.slice(0, 4).map((m) => m.content));
  });

  it('answers 404 RECORD_NOT_FOUND for a record of another session and 400 for context none', async () => {
    const other = await h.client.sessions.fork({ spaceId, sessionId: rootId }, { label: 'other' });
    await expect(
      h.client.sessions.fork({ spaceId, sessionId: other.id }, { label: 'x', fromRecordId: messages[0]!.id }),
    ).rejects.toMatchObject({ status: 404, code: 'RECORD_NOT_FOUND' });
    await expect(
      h.client.sessions.fork(
        { spaceId, sessionId: rootId },
        { label: 'x', fromRecordId: messages[0]!.id, context: 'none' },
      ),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('accepts the same field in the WebSocket session.fork', async () => {
    const connection = await h.client.connect(spaceId);
    try {
      await connection.enter(rootId);
      const child = await connection.fork({ label: 'ws branch', fromRecordId: messages[1]!.id });
      expect(await contents(child.id)).toEqual(messages.slice(0, 2).map((m) => m.content));
    } finally {
      connection.close();
    }
  });
});
