import { randomUUID } from 'node:crypto';
import { type FakeLLMServer, startFakeOpenAI } from '@internal/testing';
import { tool } from '@stello-ai/core';
import { createOpenAICompatibleAdapter } from '@stello-ai/session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { E2EHarness } from './__fixtures__/e2e-harness';
import { startTwoServers, type TwoServers } from './__fixtures__/two-servers';

// Live turns across two server processes on one database, through their HTTP APIs, with one fake
// model both call: a retried turn id runs once wherever it lands, 100 submissions of one id make
// one turn, a cancel reaches the process that runs the turn (also while a tool runs), and the
// `reject` policy holds across processes.

/** A gate the fake model (or a tool) waits on until the test opens it. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('live turns across two server processes', () => {
  let servers: TwoServers;
  let fake: FakeLLMServer;
  let a: E2EHarness;
  let b: E2EHarness;
  // The model waits on `held` for inputs that start with "hold"; a tool call is made for "tool".
  let held = gate();
  let toolStarted = gate();
  let toolAborted = false;

  beforeAll(async () => {
    fake = await startFakeOpenAI({
      script: async (request) => {
        const messages = request.body.messages as Array<{ role: string; content?: string }>;
        const last = messages.at(-1);
        if (last?.role === 'user' && last.content?.startsWith('tool')) {
          return { content: null, toolCalls: [{ id: 'call_1', name: 'slow', input: {} }] };
        }
        if (last?.role === 'user' && last.content?.startsWith('hold')) await held.opened;
        return { content: `done: ${last?.content ?? ''}` };
      },
    });
    const slow = tool('slow', 'waits until the turn is cancelled', {}, async (_input, context) => {
      toolStarted.open();
      await new Promise<void>((resolve) => {
        if (context.signal.aborted) resolve();
        context.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      toolAborted = true;
      return 'stopped';
    });
    const agentPoolOptions = {
      model: createOpenAICompatibleAdapter({
        baseURL: fake.baseURL,
        apiKey: 'k',
        model: 'gpt-test',
        maxRetries: 0,
      }),
      buildConfig: () => ({ capabilities: { tools: [slow] } }),
    };
    const both = { server: { agentPoolOptions }, cachedUserStore: true };
    servers = await startTwoServers({ a: both, b: both });
    ({ a, b } = servers);
  });

  afterAll(async () => {
    held.open();
    await servers?.close();
    await fake?.close();
  });

  async function newSession(): Promise<{ spaceId: string; sessionId: string }> {
    const spaceId = (await a.api('POST', '/spaces', { label: 'live' })).body.id as string;
    const sessionId = (await a.api('GET', `/spaces/${spaceId}/sessions`)).body[0].id as string;
    return { spaceId, sessionId };
  }

  const turnPath = (s: { spaceId: string; sessionId: string }) =>
    `/spaces/${s.spaceId}/sessions/${s.sessionId}/turn`;
  const modelCalls = (input: string) =>
    fake.requests.filter((request) =>
      (request.body.messages as Array<{ role: string; content?: string }>).some(
        (message) => message.role === 'user' && message.content === input,
      ),
    ).length;

  it('a retry of a running turn id on the other process waits for it: one model call, one result', async () => {
    held = gate();
    const s = await newSession();
    const turnId = randomUUID();
    const first = a.api('POST', turnPath(s), { input: 'hold retry', turnId });
    await until(() => modelCalls('hold retry') === 1, 'the first attempt to reach the model');
    const retry = b.api('POST', turnPath(s), { input: 'hold retry', turnId }, a.apiKey);
    await new Promise((resolve) => setTimeout(resolve, 200));
    held.open();
    const [one, two] = await Promise.all([first, retry]);
    expect(one.status).toBe(200);
    expect(two.status).toBe(200);
    expect(two.body).toEqual(one.body);
    expect(modelCalls('hold retry')).toBe(1);
    const messages = (
      await b.api('GET', `/spaces/${s.spaceId}/sessions/${s.sessionId}/messages`, undefined, a.apiKey)
    ).body;
    expect(messages).toHaveLength(2);
  });

  it('100 concurrent submissions of one turn id, split over both processes, make one turn', async () => {
    const s = await newSession();
    const turnId = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, index) =>
        (index % 2 === 0 ? a : b).api('POST', turnPath(s), { input: 'once', turnId }, a.apiKey),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(100).fill(200));
    // The same result for all (the stored copy may order its JSON keys differently).
    for (const answer of answers) expect(answer.body).toEqual(answers[0]!.body);
    const messages = (await a.api('GET', `/spaces/${s.spaceId}/sessions/${s.sessionId}/messages`)).body;
    expect(messages).toHaveLength(2);
    expect(modelCalls('once')).toBe(1);
  });

  it('the reject policy answers SESSION_BUSY at once while the other process runs a turn', async () => {
    held = gate();
    const s = await newSession();
    const running = a.api('POST', turnPath(s), { input: 'hold busy' });
    await until(() => modelCalls('hold busy') === 1, 'the running turn to reach the model');
    const started = Date.now();
    const refused = await b.api('POST', turnPath(s), { input: 'other', concurrency: 'reject' }, a.apiKey);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'SESSION_BUSY' });
    expect(Date.now() - started).toBeLessThan(2_000);
    held.open();
    expect((await running).status).toBe(200);
    expect(modelCalls('other')).toBe(0);
  });

  it('a cancel sent to the other process stops a turn waiting on the model; nothing is stored', async () => {
    held = gate();
    const s = await newSession();
    const turnId = randomUUID();
    const running = a.api('POST', turnPath(s), { input: 'hold cancel', turnId });
    await until(() => modelCalls('hold cancel') === 1, 'the turn to reach the model');
    const cancel = await b.api(
      'POST',
      `/spaces/${s.spaceId}/sessions/${s.sessionId}/turns/${turnId}/cancel`,
      undefined,
      a.apiKey,
    );
    expect(cancel.status).toBe(202);
    const answer = await running;
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ code: 'TURN_CANCELLED' });
    held.open();
    expect((await a.api('GET', `/spaces/${s.spaceId}/sessions/${s.sessionId}/messages`)).body).toEqual([]);
    const status = await b.api(
      'GET',
      `/spaces/${s.spaceId}/sessions/${s.sessionId}/turns/${turnId}`,
      undefined,
      a.apiKey,
    );
    expect(status.body).toMatchObject({ status: 'cancelled' });
  });

  it('a cancel from the other process reaches a tool while it runs', async () => {
    toolStarted = gate();
    toolAborted = false;
    const s = await newSession();
    const turnId = randomUUID();
    const running = a.api('POST', turnPath(s), { input: 'tool please', turnId });
    await toolStarted.opened;
    const cancel = await b.api(
      'POST',
      `/spaces/${s.spaceId}/sessions/${s.sessionId}/turns/${turnId}/cancel`,
      undefined,
      a.apiKey,
    );
    expect(cancel.status).toBe(202);
    const answer = await running;
    expect(answer.body).toMatchObject({ code: 'TURN_CANCELLED' });
    expect(toolAborted).toBe(true);
    expect((await a.api('GET', `/spaces/${s.spaceId}/sessions/${s.sessionId}/messages`)).body).toEqual([]);
  });
});
