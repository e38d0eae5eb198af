import { type FakeLLMServer, startFakeOpenAI } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeOpenAIModel } from '../__fixtures__/fake-openai-model';
import { createSpace, rest } from '../__fixtures__/rest-client';
import { createTestStack, type TestServer, type TestStack, type TestUser } from '../__fixtures__/test-stack';
import { connectWs, type Frame, type WsTestClient } from '../__fixtures__/ws-test-client';
import { MAX_PENDING_MESSAGES } from './ws-connection';

// Slow enough that a streamed turn is still running while the test acts (10 chunks × 30 ms).
const CHUNK_COUNT = 10;
const CHUNK_DELAY_MS = 30;

describe('WsConnection', () => {
  let llm: FakeLLMServer;
  let stack: TestStack;
  let server: TestServer;
  let alice: TestUser;
  let spaceId: string;
  let rootId: string;
  const leaves: string[] = [];

  beforeAll(async () => {
    llm = await startFakeOpenAI({ chunkCount: CHUNK_COUNT, chunkDelayMs: CHUNK_DELAY_MS });
    stack = await createTestStack({
      model: fakeOpenAIModel(llm),
      hooks: { onSessionLeave: ({ sessionId }) => void leaves.push(sessionId) },
    });
    server = await stack.listen();
    alice = await stack.createUser('alice');
    ({ spaceId, rootId } = await createSpace(stack.app, alice.apiKey, { label: 'Streams' }));
  });
  afterAll(async () => {
    await stack?.close();
    await llm?.close();
  });

  const open = () =>
    connectWs(`${server.wsUrl}/spaces/${spaceId}/ws`, { headers: { 'X-API-Key': alice.apiKey } });
  const fork = async (label: string) =>
    (
      await rest(stack.app, 'POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, {
        key: alice.apiKey,
        json: { label },
      })
    ).body.id as string;
  const enterNew = async (client: WsTestClient, label: string) => {
    const sessionId = await fork(label);
    client.send({ type: 'session.enter', sessionId });
    expect(await client.next()).toMatchObject({ type: 'session.entered' });
    return sessionId;
  };
  const messages = async (sessionId: string) =>
    (await rest(stack.app, 'GET', `/spaces/${spaceId}/sessions/${sessionId}/messages`, { key: alice.apiKey }))
      .body as {
      role: string;
      content: string;
    }[];
  /** Frames until (and including) the first of `type`. */
  const until = async (client: WsTestClient, type: string) => {
    const frames: Frame[] = [];
    for (;;) {
      const frame = await client.next();
      frames.push(frame);
      if (frame.type === type) return frames;
    }
  };

  it('completes and stores a streamed turn when the client disconnects mid-stream, detaching without leaving', async () => {
    const client = await open();
    const sessionId = await enterNew(client, 'departed');
    const input = 'a long answer that keeps streaming while the client goes away';
    client.send({ type: 'session.stream', input });
    expect(await client.next()).toMatchObject({ type: 'stream.delta' });
    await client.close();

    await expect.poll(() => messages(sessionId), { timeout: 10_000 }).toHaveLength(2);
    const stored = await messages(sessionId);
    expect(stored[0]).toMatchObject({ role: 'user', content: input });
    expect(stored[1]).toMatchObject({ role: 'assistant', content: expect.stringContaining(input) });
    const agent = await stack.agentPool.getAgent(spaceId);
    await expect.poll(() => agent.getEngineRefCount(sessionId)).toBe(0);
    expect(leaves).not.toContain(sessionId);
    expect(stack.logs.some((entry) => entry.event === 'turn' && entry.fields.sessionId === sessionId)).toBe(
      true,
    );
  });

  it('fires the leave of a session on session.leave (unlike a disconnect)', async () => {
    const client = await open();
    const sessionId = await enterNew(client, 'left');
    client.send({ type: 'session.leave' });
    expect(await client.next()).toEqual({ type: 'session.left', sessionId });
    await expect.poll(() => leaves).toContain(sessionId);
    await client.close();
  });

  it('drops the messages still queued behind the running one when the client disconnects', async () => {
    const client = await open();
    const sessionId = await enterNew(client, 'queued');
    client.send({ type: 'session.stream', input: 'first' });
    client.send({ type: 'session.message', input: 'second, never run' });
    expect(await client.next()).toMatchObject({ type: 'stream.delta' });
    await client.close();
    const agent = await stack.agentPool.getAgent(spaceId);
    await expect.poll(() => agent.getEngineRefCount(sessionId), { timeout: 10_000 }).toBe(0);
    await agent.idle();
    expect((await messages(sessionId)).map((record) => record.content)).not.toContain('second, never run');
    expect(await messages(sessionId)).toHaveLength(2);
  });

  it('handles the messages of one connection strictly in the order received', async () => {
    const client = await open();
    const sessionId = await enterNew(client, 'ordered');
    client.send({ type: 'session.stream', input: 'stream first' });
    // A fork is not queued behind turns inside the agent: only the connection's queue orders it.
    client.send({ type: 'session.fork', options: { label: 'after the stream' } });
    client.send({ type: 'session.message', input: 'then a message' });
    client.send({ type: 'session.leave' });
    const frames = await until(client, 'session.left');
    const types = frames.map((frame) => frame.type).filter((type) => type !== 'stream.delta');
    expect(types).toEqual(['stream.end', 'session.forked', 'turn.complete', 'session.left']);
    expect(frames.at(-1)).toEqual({ type: 'session.left', sessionId });
    await client.close();
  });

  it('delays only the connection whose stream is running', async () => {
    const slow = await open();
    await enterNew(slow, 'slow');
    const fast = await open();
    await enterNew(fast, 'fast');
    slow.send({ type: 'session.stream', input: 'slow stream' });
    expect(await slow.next()).toMatchObject({ type: 'stream.delta' });
    fast.send({ type: 'session.fork', options: { label: 'quick' } });
    expect(await fast.next()).toMatchObject({ type: 'session.forked' });
    expect(slow.buffered.some((frame) => frame.type === 'stream.end')).toBe(false);
    await until(slow, 'stream.end');
    await Promise.all([slow.close(), fast.close()]);
  });

  it(`refuses messages beyond ${MAX_PENDING_MESSAGES} pending ones with TOO_MANY_MESSAGES`, async () => {
    const client = await open();
    await enterNew(client, 'flood');
    const extra = 8;
    client.send({ type: 'session.stream', input: 'busy' });
    for (let i = 0; i < MAX_PENDING_MESSAGES - 1 + extra; i += 1) client.send('not json');
    const frames: Frame[] = [];
    while (frames.filter((frame) => frame.code === 'PARSE_ERROR').length < MAX_PENDING_MESSAGES - 1) {
      frames.push(await client.next());
    }
    expect(frames.filter((frame) => frame.code === 'TOO_MANY_MESSAGES')).toHaveLength(extra);
    expect(frames.some((frame) => frame.type === 'stream.end')).toBe(true);
    // The backlog drained: the connection works normally again.
    client.send('not json');
    expect(await client.next()).toMatchObject({ code: 'PARSE_ERROR' });
    await client.close();
  });
});
