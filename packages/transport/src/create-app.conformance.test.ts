import { randomUUID } from 'node:crypto';
import { type FakeLLMServer, startFakeOpenAI } from '@internal/testing';
import { tool } from '@stello-ai/core';
import {
  archivedSessionSchema,
  cancelTurnResultSchema,
  errorBody,
  healthSchema,
  readinessSchema,
  recordPageSchema,
  serverFrameSchema,
  sessionInfoSchema,
  sessionListSchema,
  sessionTreeNodeSchema,
  slotContentSchema,
  spacePageSchema,
  spaceSchema,
  turnInfoSchema,
  turnResultSchema,
  turnStartedFrame,
  turnStreamFrame,
  validationIssue,
} from '@stello-ai/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fakeOpenAIModel } from './__fixtures__/fake-openai-model';
import { createSpace, rest } from './__fixtures__/rest-client';
import { createTestStack, type TestServer, type TestStack, type TestUser } from './__fixtures__/test-stack';
import { connectWs, type Frame } from './__fixtures__/ws-test-client';

// Real answers of the real stack (PostgreSQL, sockets, a fake OpenAI server that calls a tool),
// parsed with the protocol's response schemas: the OpenAPI document and the typed client describe
// what the server really sends. The schemas are strict, so a renamed or leaked field fails here.

const lookup = tool('lookup', 'Looks a word up', { word: z.string() }, ({ word }) => ({
  meaning: `${word}!`,
}));

/** One Server-Sent Event. */
interface SseEvent {
  event: string;
  id?: string;
  data: unknown;
}

/** Parses a whole `text/event-stream` body (comments and `retry:` skipped). */
function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .map((block) => block.split('\n').filter((line) => line.length > 0 && !line.startsWith(':')))
    .filter((lines) => lines.some((line) => line.startsWith('data:')))
    .map((lines) => {
      const field = (name: string) =>
        lines.filter((line) => line.startsWith(`${name}:`)).map((line) => line.slice(name.length + 1).trim());
      const id = field('id')[0];
      return {
        event: field('event')[0] ?? 'message',
        ...(id !== undefined && { id }),
        data: JSON.parse(field('data').join('\n')),
      };
    });
}

describe('REST, SSE and WebSocket answers conform to @stello-ai/protocol', () => {
  let llm: FakeLLMServer;
  let stack: TestStack;
  let server: TestServer;
  let alice: TestUser;
  let spaceId: string;
  let rootId: string;

  beforeAll(async () => {
    // The model calls the tool named in the input once, then answers.
    llm = await startFakeOpenAI({
      chunkCount: 3,
      script: (request) => {
        const last = request.body.messages.at(-1);
        const text = String(last?.content ?? '');
        if (last?.role === 'user' && text.startsWith('use ')) {
          return { toolCalls: [{ name: 'lookup', input: { word: 'stello' } }] };
        }
        return {};
      },
    });
    stack = await createTestStack({ model: fakeOpenAIModel(llm), tools: [lookup] });
    server = await stack.listen();
    alice = await stack.createUser('alice');
    ({ spaceId, rootId } = await createSpace(stack.app, alice.apiKey, {
      label: 'Conform',
      systemPrompt: 'Hi',
    }));
  });
  afterAll(async () => {
    await stack?.close();
    await llm?.close();
  });

  const call = (method: string, path: string, json?: unknown) =>
    rest(stack.app, method, path, { key: alice.apiKey, ...(json !== undefined && { json }) });
  const session = (id = rootId) => `/spaces/${spaceId}/sessions/${id}`;

  it('spaces: create, list, read, update', async () => {
    const created = await call('POST', '/spaces', { label: 'Another', config: { a: 1 } });
    expect(created.status).toBe(201);
    spaceSchema.parse(created.body);
    spacePageSchema.parse((await call('GET', '/spaces?limit=10')).body);
    spaceSchema.parse((await call('GET', `/spaces/${spaceId}`)).body);
    spaceSchema.parse((await call('PATCH', `/spaces/${spaceId}`, { integratePrompt: 'Sum up' })).body);
  });

  it('sessions: list, tree, one, fork, archive', async () => {
    const fork = await call('POST', `${session()}/fork`, { label: 'Child', scope: 'a scope' });
    expect(fork.status).toBe(201);
    const child = sessionInfoSchema.parse(fork.body);
    const list = sessionListSchema.parse((await call('GET', `/spaces/${spaceId}/sessions`)).body);
    expect(list.length).toBeGreaterThanOrEqual(2);
    const tree = sessionTreeNodeSchema.parse(
      (await call('GET', `/spaces/${spaceId}/sessions?view=tree`)).body,
    );
    expect(tree.children.map((node) => node.id)).toContain(child.id);
    sessionInfoSchema.parse((await call('GET', session(child.id))).body);
    archivedSessionSchema.parse((await call('POST', `${session(child.id)}/archive`)).body);
  });

  it('turns: result, records with tool calls, status, cancel', async () => {
    const turnId = randomUUID();
    const turn = await call('POST', `${session()}/turn`, { input: 'use lookup', turnId });
    expect(turn.status).toBe(200);
    turnResultSchema.parse(turn.body);
    const records = recordPageSchema.parse((await call('GET', `${session()}/messages`)).body);
    expect(records.some((record) => record.toolCalls?.length)).toBe(true);
    expect(records.some((record) => record.toolCallId)).toBe(true);
    const paged = await call('GET', `${session()}/messages?limit=1`);
    recordPageSchema.parse(paged.body);
    expect(paged.headers.get('x-next-cursor')).toBeTruthy();
    const status = turnInfoSchema.parse((await call('GET', `${session()}/turns/${turnId}`)).body);
    expect(status.status).toBe('completed');
    const cancel = await call('POST', `${session()}/turns/${turnId}/cancel`);
    expect(cancel.status).toBe(202);
    cancelTurnResultSchema.parse(cancel.body);
  });

  it('session data slots', async () => {
    slotContentSchema.parse((await call('PUT', `${session()}/system-prompt`, { content: 'Be brief' })).body);
    for (const slot of ['system-prompt', 'memory', 'insight', 'consolidate-prompt', 'integrate-prompt']) {
      slotContentSchema.parse((await call('GET', `${session()}/${slot}`)).body);
    }
  });

  it('error bodies, with validation details', async () => {
    const invalid = await call('POST', `${session()}/fork`, { label: '' });
    expect(invalid.status).toBe(400);
    const body = errorBody.parse(invalid.body);
    expect(body.code).toBe('VALIDATION_ERROR');
    z.array(validationIssue).min(1).parse(body.details);
    const missingKey = await rest(stack.app, 'GET', '/spaces');
    expect(errorBody.parse(missingKey.body).code).toBe('MISSING_API_KEY');
    expect(errorBody.parse((await call('GET', session(randomUUID()))).body).code).toBe('SESSION_NOT_FOUND');
    expect(errorBody.parse((await call('GET', '/nowhere')).body).code).toBe('NOT_FOUND');
  });

  it('health and readiness', async () => {
    healthSchema.parse((await rest(stack.app, 'GET', '/healthz')).body);
    readinessSchema.parse((await rest(stack.app, 'GET', '/readyz')).body);
  });

  it('SSE: a streamed turn and its resume', async () => {
    const response = await fetch(`${server.httpUrl}${session()}/stream`, {
      method: 'POST',
      headers: { 'X-API-Key': alice.apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ input: 'use lookup' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const [started, ...events] = parseSse(await response.text());
    const { turnId } = turnStartedFrame.parse(started?.data);
    expect(response.headers.get('x-turn-id')).toBe(turnId);
    for (const event of events) {
      const frame = turnStreamFrame.parse(event.data);
      expect(event.event).toBe(frame.type);
      expect(event.id).toBe(String(frame.seq));
    }
    expect(events.map((event) => event.event)).toEqual(
      expect.arrayContaining(['tool.call', 'tool.result', 'stream.delta', 'stream.end']),
    );

    const resumed = await fetch(`${server.httpUrl}${session()}/turns/${turnId}/events`, {
      headers: { 'X-API-Key': alice.apiKey, 'Last-Event-ID': '1' },
    });
    const replay = parseSse(await resumed.text());
    expect(replay.at(-1)?.event).toBe('stream.end');
    for (const event of replay) turnStreamFrame.parse(event.data);
  });

  it('WebSocket: every frame of a session, a stream, a fork and refused messages', async () => {
    const client = await connectWs(`${server.wsUrl}/spaces/${spaceId}/ws`, {
      headers: { 'X-API-Key': alice.apiKey },
    });
    const frames: Frame[] = [];
    const until = async (type: string) => {
      for (;;) {
        const frame = await client.next();
        frames.push(frame);
        if (frame.type === type) return frame;
      }
    };
    try {
      client.send({ type: 'session.enter', sessionId: rootId });
      await until('session.entered');
      client.send({ type: 'session.stream', input: 'use lookup' });
      await until('stream.end');
      client.send({ type: 'session.message', input: 'plain' });
      await until('turn.complete');
      client.send({ type: 'session.fork', options: { label: 'By socket' } });
      await until('session.forked');
      client.send({ type: 'nonsense' });
      await until('error');
      client.send({ type: 'session.leave' });
      await until('session.left');
    } finally {
      await client.close();
    }
    for (const frame of frames) serverFrameSchema.parse(frame);
    expect(new Set(frames.map((frame) => frame.type))).toEqual(
      new Set([
        'session.entered',
        'tool.call',
        'tool.result',
        'stream.delta',
        'stream.end',
        'turn.complete',
        'session.forked',
        'error',
        'session.left',
      ]),
    );
  });

  it('is strict enough to catch a renamed or leaked field', async () => {
    const space = (await call('GET', `/spaces/${spaceId}`)).body;
    expect(spaceSchema.safeParse(space).success).toBe(true);
    const { label, ...rest } = space;
    expect(spaceSchema.safeParse({ ...rest, name: label }).success).toBe(false);
    expect(spaceSchema.safeParse({ ...space, ownerKeyHash: 'x' }).success).toBe(false);
  });
});
