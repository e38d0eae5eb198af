import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EHarness, startHarness, WsTestClient } from './__fixtures__/e2e-harness';

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
    const created = await h.api('POST', '/spaces', { label: 'Window', systemPrompt: 'You are helpful.' });
    spaceId = created.body.id;
    rootId = (await h.api('GET', `/spaces/${spaceId}/sessions`)).body[0].id;
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  it('answers REST with 413 CONTEXT_TOO_LONG and stores nothing', async () => {
    const turn = await h.api('POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, {
      input: LONG_CHINESE_INPUT,
    });
    expect(turn.status).toBe(413);
    expect(turn.body).toMatchObject({ code: 'CONTEXT_TOO_LONG' });
    const messages = await h.api('GET', `/spaces/${spaceId}/sessions/${rootId}/messages`);
    expect(messages.body).toEqual([]);

    // A normal turn on the same session still works.
    const ok = await h.api('POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, { input: '你好' });
    expect(ok.status).toBe(200);
  });

  it('answers a WebSocket stream with an error frame coded CONTEXT_TOO_LONG', async () => {
    const ws = await WsTestClient.connect(h.wsUrl(spaceId), h.apiKey);
    try {
      ws.send({ type: 'session.enter', sessionId: rootId });
      await ws.expect('session.entered');
      ws.send({ type: 'session.stream', input: LONG_CHINESE_INPUT });
      const error = await ws.expect('error');
      expect(error.code).toBe('CONTEXT_TOO_LONG');
    } finally {
      await ws.close();
    }
  });
});
