import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EHarness, startHarness } from './__fixtures__/e2e-harness';

// A model with a small window, so a long input alone cannot fit.
const WINDOW_TOKENS = 1_000;
const LONG_CHINESE_INPUT = '这是一段很长的中文输入，用来测试上下文窗口。'.repeat(100);

describe('a turn whose input alone exceeds the model window', () => {
  let db: TestDatabase;
  let h: E2EHarness;
  let spaceId: string;
  let rootId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    h = await startHarness(db.pool, { fake: { maxPromptTokens: WINDOW_TOKENS } });
    spaceId = (await h.client.spaces.create({ label: 'Window', systemPrompt: 'You are helpful.' })).id;
    rootId = (await h.client.sessions.list({ spaceId }))[0]!.id;
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  it('answers REST with 413 CONTEXT_TOO_LONG and stores nothing', async () => {
    const root = { spaceId, sessionId: rootId };
    await expect(h.client.turns.send({ ...root, input: LONG_CHINESE_INPUT })).rejects.toMatchObject({
      status: 413,
      code: 'CONTEXT_TOO_LONG',
    });
    expect((await h.client.sessions.messages(root)).items).toEqual([]);

    // A normal turn on the same session still works.
    expect((await h.client.turns.send({ ...root, input: '你好' })).turn.finalContent).toEqual(
      expect.any(String),
    );
  });

  it('ends a WebSocket stream with the error coded CONTEXT_TOO_LONG', async () => {
    const connection = await h.client.connect(spaceId);
    try {
      await connection.enter(rootId);
      const stream = connection.stream({ input: LONG_CHINESE_INPUT });
      await expect(stream.result).rejects.toMatchObject({ code: 'CONTEXT_TOO_LONG' });
    } finally {
      connection.close();
    }
  });
});
