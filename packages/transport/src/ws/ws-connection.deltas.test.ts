import { type FakeLLMServer, startFakeOpenAI } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeOpenAIModel } from '../__fixtures__/fake-openai-model';
import { createSpace } from '../__fixtures__/rest-client';
import { createTestStack, type TestServer, type TestStack, type TestUser } from '../__fixtures__/test-stack';
import { connectWs } from '../__fixtures__/ws-test-client';

const CHUNKS = 16;
const REPLY =
  'One two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen';

/** A stack whose fake model streams 16 chunks, `chunkDelayMs` apart. */
async function stackWithChunkDelay(chunkDelayMs: number) {
  const llm = await startFakeOpenAI({ chunkCount: CHUNKS, chunkDelayMs, script: () => ({ content: REPLY }) });
  const stack = await createTestStack({ model: fakeOpenAIModel(llm) });
  const server = await stack.listen();
  const user = await stack.createUser('deltas');
  const { spaceId, rootId } = await createSpace(stack.app, user.apiKey, { label: 'deltas' });
  return { llm, stack, server, user, spaceId, rootId };
}

/** Streams one turn over a real socket; the delta frames and the end frame. */
async function streamOnce(server: TestServer, user: TestUser, spaceId: string, sessionId: string) {
  const client = await connectWs(`${server.wsUrl}/spaces/${spaceId}/ws`, {
    headers: { 'X-API-Key': user.apiKey },
  });
  try {
    client.send({ type: 'session.enter', sessionId });
    await client.next();
    client.send({ type: 'session.stream', input: 'count to sixteen' });
    const deltas: { seq: number; chunk: string }[] = [];
    let frame = await client.next();
    while (frame.type === 'stream.delta') {
      deltas.push({ seq: frame.seq, chunk: frame.chunk });
      frame = await client.next();
    }
    return { deltas, end: frame };
  } finally {
    await client.close();
  }
}

describe('WsConnection stream deltas', () => {
  const open: { llm: FakeLLMServer; stack: TestStack }[] = [];
  afterAll(async () => {
    for (const { llm, stack } of open) {
      await stack.close();
      await llm.close();
    }
  });

  describe('chunks that arrive in one network read', () => {
    let fixture: Awaited<ReturnType<typeof stackWithChunkDelay>>;
    beforeAll(async () => {
      fixture = await stackWithChunkDelay(0);
      open.push(fixture);
    });

    it('leave in fewer frames than chunks, with the same text and consecutive seqs', async () => {
      const { server, user, spaceId, rootId } = fixture;
      const { deltas, end } = await streamOnce(server, user, spaceId, rootId);

      expect(deltas.length).toBeGreaterThanOrEqual(1);
      expect(deltas.length).toBeLessThan(CHUNKS);
      expect(deltas.map((delta) => delta.chunk).join('')).toBe(REPLY);
      expect(deltas.map((delta) => delta.seq)).toEqual(deltas.map((_, index) => index + 1));
      expect(end).toMatchObject({ type: 'stream.end', seq: deltas.length + 1 });
    });
  });

  describe('chunks that arrive apart', () => {
    let fixture: Awaited<ReturnType<typeof stackWithChunkDelay>>;
    beforeAll(async () => {
      fixture = await stackWithChunkDelay(15);
      open.push(fixture);
    });

    it('leave as they come, one frame each', async () => {
      const { server, user, spaceId, rootId } = fixture;
      const { deltas, end } = await streamOnce(server, user, spaceId, rootId);

      // 15 ms apart, each chunk is its own network read (a loaded machine may merge a few).
      expect(deltas.length).toBeGreaterThanOrEqual(CHUNKS - 4);
      expect(deltas.map((delta) => delta.chunk).join('')).toBe(REPLY);
      expect(end).toMatchObject({ type: 'stream.end', result: { turn: { finalContent: REPLY } } });
    });
  });
});
