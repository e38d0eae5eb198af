import { randomUUID } from 'node:crypto';
import { type FakeLLMServer, startFakeOpenAI } from '@internal/testing';
import { tool } from '@stello-ai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fakeOpenAIModel } from '../__fixtures__/fake-openai-model';
import { createSpace, rest } from '../__fixtures__/rest-client';
import { createTestStack, type TestServer, type TestStack, type TestUser } from '../__fixtures__/test-stack';
import { connectWs, type Frame, type WsTestClient } from '../__fixtures__/ws-test-client';

// Live turns over the WebSocket: turn ids and seq on every frame, tool progress, safe retries,
// and a cancel that does not wait behind the turn it cancels.
let toolStarted: () => void = () => {};
const lookup = tool('lookup', 'Looks a word up', { word: z.string() }, ({ word }) => ({
  meaning: `${word}!`,
}));
const slow = tool('slow', 'Waits until cancelled', {}, (_input, context) => {
  toolStarted();
  return new Promise((_resolve, reject) => {
    context.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
  });
});

describe('WebSocket live turns', () => {
  let llm: FakeLLMServer;
  let stack: TestStack;
  let server: TestServer;
  let alice: TestUser;
  let spaceId: string;
  let rootId: string;

  beforeAll(async () => {
    // The model calls the tool named in the input once, then answers.
    llm = await startFakeOpenAI({
      chunkCount: 4,
      script: (request) => {
        const last = request.body.messages.at(-1);
        const text = String(last?.content ?? '');
        if (last?.role === 'user' && text.startsWith('use ')) {
          return {
            toolCalls: [{ name: text.slice(4), input: text.endsWith('lookup') ? { word: 'stello' } : {} }],
          };
        }
        return {};
      },
    });
    stack = await createTestStack({ model: fakeOpenAIModel(llm), tools: [lookup, slow] });
    server = await stack.listen();
    alice = await stack.createUser('alice');
    ({ spaceId, rootId } = await createSpace(stack.app, alice.apiKey, { label: 'Live' }));
  });
  afterAll(async () => {
    await stack?.close();
    await llm?.close();
  });

  const open = async (): Promise<WsTestClient> => {
    const client = await connectWs(`${server.wsUrl}/spaces/${spaceId}/ws`, {
      headers: { 'X-API-Key': alice.apiKey },
    });
    client.send({ type: 'session.enter', sessionId: rootId });
    expect(await client.next()).toMatchObject({ type: 'session.entered' });
    return client;
  };
  const until = async (client: WsTestClient, type: string) => {
    const frames: Frame[] = [];
    for (;;) {
      const frame = await client.next(undefined, 10_000);
      frames.push(frame);
      if (frame.type === type || frame.type === 'error') return frames;
    }
  };

  it('numbers every frame of a stream with seq and names its turn, tool progress included', async () => {
    const client = await open();
    const turnId = randomUUID();
    client.send({ type: 'session.stream', input: 'use lookup', turnId });
    const frames = await until(client, 'stream.end');
    expect(frames.map((frame) => frame.seq)).toEqual(frames.map((_, i) => i + 1));
    expect(frames.every((frame) => frame.turnId === turnId)).toBe(true);
    const call = frames.find((frame) => frame.type === 'tool.call');
    const result = frames.find((frame) => frame.type === 'tool.result');
    expect(call).toMatchObject({ name: 'lookup', input: { word: 'stello' } });
    expect(result).toMatchObject({ callId: call?.callId, ok: true });
    expect(frames.indexOf(call!)).toBeLessThan(frames.indexOf(result!));
    const end = frames.at(-1)!;
    expect(end).toMatchObject({ type: 'stream.end', result: { turnId } });
    const text = frames
      .filter((frame) => frame.type === 'stream.delta')
      .map((frame) => frame.chunk)
      .join('');
    expect(text).toBe(end.result.turn.finalContent);
    await client.close();
  });

  it('answers a retried turnId with the first result and one LLM call', async () => {
    const client = await open();
    const turnId = randomUUID();
    const calls = llm.requests.length;
    client.send({ type: 'session.message', input: 'just once', turnId });
    const first = await client.next('turn.complete');
    client.send({ type: 'session.message', input: 'just once', turnId });
    const second = await client.next('turn.complete');
    expect(second).toEqual(first);
    expect(first.turnId).toBe(turnId);
    expect(llm.requests.length - calls).toBe(1);
    await client.close();
  });

  it('cancels a stream during tool execution at once: turn.cancelled, nothing stored', async () => {
    const client = await open();
    const before = (
      await rest(stack.app, 'GET', `/spaces/${spaceId}/sessions/${rootId}/messages`, { key: alice.apiKey })
    ).body.length;
    const started = new Promise<void>((resolve) => {
      toolStarted = resolve;
    });
    const turnId = randomUUID();
    client.send({ type: 'session.stream', input: 'use slow', turnId });
    await started;
    client.send({ type: 'session.cancel', turnId });
    const frames = await until(client, 'turn.cancelled');
    expect(frames.at(-1)).toMatchObject({ type: 'turn.cancelled', turnId });
    expect(frames.some((frame) => frame.type === 'tool.call' && frame.name === 'slow')).toBe(true);
    const after = (
      await rest(stack.app, 'GET', `/spaces/${spaceId}/sessions/${rootId}/messages`, { key: alice.apiKey })
    ).body.length;
    expect(after).toBe(before);
    const status = await rest(stack.app, 'GET', `/spaces/${spaceId}/sessions/${rootId}/turns/${turnId}`, {
      key: alice.apiKey,
    });
    expect(status.body.status).toBe('cancelled');
    await client.close();
  });
});
