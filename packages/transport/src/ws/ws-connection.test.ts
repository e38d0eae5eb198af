import { type FakeLLMServer, startFakeOpenAI } from '@internal/testing';
import { ConnectionManager } from '@stello-ai/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failWhenAskedTo, fakeOpenAIModel } from '../__fixtures__/fake-openai-model';
import { createSpace, rest } from '../__fixtures__/rest-client';
import { createTestStack, type TestServer, type TestStack, type TestUser } from '../__fixtures__/test-stack';
import { connectWs, type WsTestClient } from '../__fixtures__/ws-test-client';

const PROVIDER_SECRET = 'upstream exploded for key sk-provider-secret';

describe('WsConnection', () => {
  let llm: FakeLLMServer;
  let stack: TestStack;
  let server: TestServer;
  let alice: TestUser;
  let spaceId: string;
  let rootId: string;
  const clients: WsTestClient[] = [];

  beforeAll(async () => {
    llm = await startFakeOpenAI({ script: failWhenAskedTo(PROVIDER_SECRET) });
    stack = await createTestStack({ model: fakeOpenAIModel(llm) });
    server = await stack.listen();
    alice = await stack.createUser('alice');
    ({ spaceId, rootId } = await createSpace(stack.app, alice.apiKey, { label: 'WS' }));
  });
  afterAll(async () => {
    for (const client of clients) await client.close();
    await stack?.close();
    await llm?.close();
  });

  const open = async (id = spaceId) => {
    const client = await connectWs(`${server.wsUrl}/spaces/${id}/ws`, {
      headers: { 'X-API-Key': alice.apiKey },
    });
    clients.push(client);
    return client;
  };
  const fork = async (label: string) =>
    (
      await rest(stack.app, 'POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, {
        key: alice.apiKey,
        json: { label },
      })
    ).body.id as string;
  const enter = async (client: WsTestClient, sessionId: string) => {
    client.send({ type: 'session.enter', sessionId });
    return client.next();
  };

  describe('messages', () => {
    it('enters a session and returns its bootstrap', async () => {
      const client = await open();
      const entered = await enter(client, rootId);
      expect(entered).toMatchObject({
        type: 'session.entered',
        sessionId: rootId,
        bootstrap: { context: expect.any(Object), session: { id: rootId, label: 'WS' } },
      });
      expect(stack.agentPool.size).toBeGreaterThan(0);
      const agent = await stack.agentPool.getAgent(spaceId);
      expect(agent.getEngineRefCount(rootId)).toBeGreaterThanOrEqual(1);
      await client.close();
    });

    it('runs a turn with session.message and answers turn.complete', async () => {
      const sessionId = await fork('message');
      const client = await open();
      await enter(client, sessionId);
      client.send({ type: 'session.message', input: 'What is Stello?' });
      const frame = await client.next();
      expect(frame).toEqual({
        type: 'turn.complete',
        turnId: frame.result.turnId,
        result: {
          turnId: expect.any(String),
          turn: {
            finalContent: expect.stringContaining('What is Stello?'),
            toolRoundCount: 0,
            toolCallsExecuted: 0,
            rawResponse: expect.any(String),
          },
        },
      });
      const messages = await rest(stack.app, 'GET', `/spaces/${spaceId}/sessions/${sessionId}/messages`, {
        key: alice.apiKey,
      });
      expect(messages.body.map((r: { role: string }) => r.role)).toEqual(['user', 'assistant']);
      const line = stack.logs.find((entry) => entry.event === 'turn' && entry.fields.sessionId === sessionId);
      expect(line?.fields).toMatchObject({ transport: 'ws', spaceId, stream: false, toolRounds: 0 });
    });

    it('streams a turn as stream.delta frames then stream.end, and stores it', async () => {
      const sessionId = await fork('stream');
      const client = await open();
      await enter(client, sessionId);
      client.send({ type: 'session.stream', input: 'Explain in detail please.' });
      const chunks: string[] = [];
      let frame = await client.next();
      while (frame.type === 'stream.delta') {
        chunks.push(frame.chunk);
        frame = await client.next();
      }
      // The fake sends its 4 chunks in one write: they may leave as one frame (same event-loop turn).
      expect(chunks.length).toBeGreaterThanOrEqual(1);
      expect(frame).toMatchObject({ type: 'stream.end', result: { turn: { toolRoundCount: 0 } } });
      expect(chunks.join('')).toBe(frame.result.turn.finalContent);
      const messages = await rest(stack.app, 'GET', `/spaces/${spaceId}/sessions/${sessionId}/messages`, {
        key: alice.apiKey,
      });
      expect(messages.body.at(-1)).toMatchObject({
        role: 'assistant',
        content: frame.result.turn.finalContent,
      });
    });

    it('forks the entered session with session.fork and answers session.forked', async () => {
      const parentId = await fork('parent');
      const client = await open();
      await enter(client, parentId);
      client.send({ type: 'session.fork', options: { label: 'Sub Topic', scope: 'coding', extra: true } });
      const frame = await client.next();
      expect(frame).toMatchObject({
        type: 'session.forked',
        child: { parentId, label: 'Sub Topic', scope: 'coding', depth: 2, children: [] },
      });
    });

    it('leaves with session.leave, detaching the holder, and can enter again', async () => {
      const sessionId = await fork('leave');
      const client = await open();
      await enter(client, sessionId);
      const agent = await stack.agentPool.getAgent(spaceId);
      expect(agent.getEngineRefCount(sessionId)).toBe(1);
      client.send({ type: 'session.leave' });
      expect(await client.next()).toEqual({ type: 'session.left', sessionId });
      // The consolidation a leave schedules may hold the session for a moment; the client's holder is gone.
      await expect.poll(() => agent.getEngineRefCount(sessionId)).toBe(0);
      expect(await enter(client, rootId)).toMatchObject({ type: 'session.entered', sessionId: rootId });
    });
  });

  describe('errors', () => {
    it('answers invalid JSON with PARSE_ERROR', async () => {
      const client = await open();
      client.send('{"type": "session.enter"');
      expect(await client.next()).toEqual({
        type: 'error',
        message: expect.any(String),
        code: 'PARSE_ERROR',
      });
    });

    it('answers JSON that is not an object with PARSE_ERROR, a missing type with UNKNOWN_TYPE', async () => {
      const client = await open();
      for (const raw of ['[1,2]', '42', 'null', '"session.enter"']) {
        client.send(raw);
        expect(await client.next(), raw).toMatchObject({ type: 'error', code: 'PARSE_ERROR' });
      }
      for (const raw of ['{}', '{"type": 5}']) {
        client.send(raw);
        expect(await client.next(), raw).toMatchObject({ type: 'error', code: 'UNKNOWN_TYPE' });
      }
    });

    it('answers binary frames and a known type with missing or mistyped fields with INVALID_MESSAGE', async () => {
      const client = await open();
      const invalid = [
        '{"type": "session.enter"}',
        '{"type": "session.enter", "sessionId": "abc"}',
        '{"type": "session.enter", "sessionId": 5}',
        '{"type": "session.message", "input": 5}',
        '{"type": "session.message", "input": ""}',
        '{"type": "session.message", "input": "x", "turnId": "not-a-uuid"}',
        '{"type": "session.stream"}',
        '{"type": "session.stream", "input": "x", "concurrency": "sometimes"}',
        '{"type": "session.cancel"}',
        '{"type": "session.fork"}',
        '{"type": "session.fork", "options": {"label": ""}}',
        '{"type": "session.fork", "options": {"label": "x", "scope": 3}}',
      ];
      for (const raw of invalid) {
        client.send(raw);
        expect(await client.next(), raw).toMatchObject({
          type: 'error',
          code: 'INVALID_MESSAGE',
          message: expect.any(String),
        });
      }
      client.send(Buffer.from(JSON.stringify({ type: 'session.leave' })));
      expect(await client.next()).toMatchObject({ code: 'INVALID_MESSAGE' });
    });

    it('answers an unknown type with UNKNOWN_TYPE', async () => {
      const client = await open();
      for (const type of ['session.delete', 'constructor', '__proto__', 'toString']) {
        client.send({ type });
        expect(await client.next(), type).toMatchObject({ type: 'error', code: 'UNKNOWN_TYPE' });
      }
    });

    it('answers messages needing a session before enter with NOT_ENTERED', async () => {
      const client = await open();
      for (const message of [
        { type: 'session.message', input: 'hi' },
        { type: 'session.stream', input: 'hi' },
        { type: 'session.fork', options: { label: 'x' } },
        { type: 'session.leave' },
      ]) {
        client.send(message);
        expect(await client.next(), message.type).toMatchObject({ type: 'error', code: 'NOT_ENTERED' });
      }
    });

    it('answers a second enter with ALREADY_ENTERED', async () => {
      const client = await open();
      await enter(client, rootId);
      expect(await enter(client, rootId)).toMatchObject({ type: 'error', code: 'ALREADY_ENTERED' });
    });

    it('answers an unknown session, or one of another space, with SESSION_NOT_FOUND and leaks no holder', async () => {
      const { rootId: otherRoot } = await createSpace(stack.app, alice.apiKey, { label: 'Other' });
      const client = await open();
      const agent = await stack.agentPool.getAgent(spaceId);
      for (const sessionId of [crypto.randomUUID(), otherRoot]) {
        const frame = await enter(client, sessionId);
        expect(frame).toMatchObject({ type: 'error', code: 'SESSION_NOT_FOUND' });
        expect(JSON.stringify(frame)).not.toContain('Other');
        expect(agent.getEngineRefCount(sessionId)).toBe(0);
      }
      // Still usable: the failed enters left the connection outside any session.
      expect(await enter(client, rootId)).toMatchObject({ type: 'session.entered' });
    });

    it('answers a turn on an archived session with SESSION_ARCHIVED', async () => {
      const sessionId = await fork('archived');
      const client = await open();
      await enter(client, sessionId);
      await rest(stack.app, 'POST', `/spaces/${spaceId}/sessions/${sessionId}/archive`, {
        key: alice.apiKey,
      });
      client.send({ type: 'session.message', input: 'hi' });
      expect(await client.next()).toMatchObject({ type: 'error', code: 'SESSION_ARCHIVED' });
      client.send({ type: 'session.stream', input: 'hi' });
      expect(await client.next('error')).toMatchObject({ code: 'SESSION_ARCHIVED' });
      client.send({ type: 'session.fork', options: { label: 'x' } });
      expect(await client.next()).toMatchObject({ type: 'error', code: 'SESSION_ARCHIVED' });
    });

    it('answers a provider failure with LLM_ERROR without its message, and stores nothing', async () => {
      const sessionId = await fork('failing');
      const client = await open();
      await enter(client, sessionId);
      client.send({ type: 'session.message', input: 'please FAIL' });
      const frame = await client.next();
      expect(frame).toMatchObject({ type: 'error', code: 'LLM_ERROR' });
      expect(JSON.stringify(frame)).not.toContain('sk-provider-secret');
      client.send({ type: 'session.stream', input: 'FAIL again' });
      const streamed = await client.next('error');
      expect(streamed).toMatchObject({ code: 'LLM_ERROR' });
      expect(JSON.stringify(streamed)).not.toContain('sk-provider-secret');
      const messages = await rest(stack.app, 'GET', `/spaces/${spaceId}/sessions/${sessionId}/messages`, {
        key: alice.apiKey,
      });
      expect(messages.body).toEqual([]);
    });

    it('answers an internal fault with HANDLER_ERROR and a safe message, and releases the holder', async () => {
      class FailingConnections extends ConnectionManager {
        override attachSession(): void {
          throw new Error('connection table corrupted at 0xdeadbeef');
        }
      }
      const own = await stack.listen({ connections: new FailingConnections() });
      const client = await connectWs(`${own.wsUrl}/spaces/${spaceId}/ws`, {
        headers: { 'X-API-Key': alice.apiKey },
      });
      const sessionId = await fork('fault');
      const frame = await enter(client, sessionId);
      expect(frame).toEqual({ type: 'error', message: expect.any(String), code: 'HANDLER_ERROR' });
      expect(frame.message).not.toContain('deadbeef');
      const agent = await stack.agentPool.getAgent(spaceId);
      expect(agent.getEngineRefCount(sessionId)).toBe(0);
      expect(stack.logs.some((entry) => entry.event === 'ws.handler_error')).toBe(true);
      await client.close();
      await own.close();
    });
  });
});
