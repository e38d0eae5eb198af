import { randomUUID } from 'node:crypto';
import type { ScriptedReply } from '@internal/testing/scripted-llm';
import { callTool, createScriptedLLM, gate, lastMessage } from '@internal/testing/scripted-llm';
import { describe, expect, it } from 'vitest';
import { createStelloAgent } from '../agent/stello-agent';
import type { StelloAgentConfig } from '../agent-types';
import { createInMemoryStores } from '../in-memory';
import { tool } from '../tools/tools';
import type { TurnProgressEvent } from './turn-ledger';

type Overrides = Omit<Partial<StelloAgentConfig>, 'sessions' | 'memory' | 'storage'>;

async function setup(reply: ScriptedReply, overrides: Overrides = {}) {
  const stores = createInMemoryStores();
  const llm = createScriptedLLM(reply, { stream: true });
  const agent = createStelloAgent({ ...stores, llm, ...overrides });
  const root = await agent.createRoot('Space');
  const session = (await agent.forkSession(root.id, { label: 'turns' })).id;
  return { stores, agent, llm, session };
}

const echo: ScriptedReply = (call) => ({ content: `re: ${lastMessage(call).content}` });

describe('StelloAgent live turns (in memory)', () => {
  it('returns the turn id it generated, and the stored result for a retry of it', async () => {
    const { agent, llm, session, stores } = await setup(echo);
    const first = await agent.turn(session, 'hi');
    expect(first.turnId).toMatch(/^[0-9a-f-]{36}$/);
    const again = await agent.turn(session, 'hi', { turnId: first.turnId });
    expect(again).toEqual(first);
    expect(llm.calls).toHaveLength(1);
    expect(await stores.storage.listRecords(session)).toHaveLength(2);
    expect(await agent.getTurn(session, first.turnId)).toEqual({
      turnId: first.turnId,
      sessionId: session,
      status: 'completed',
      result: first,
    });
  });

  it('shares one run among concurrent submissions of one id and refuses another input under it', async () => {
    const opened = gate();
    const { agent, llm, session } = await setup(async (call) => {
      await opened.promise;
      return echo(call);
    });
    const turnId = randomUUID();
    const submissions = Array.from({ length: 100 }, () => agent.turn(session, 'once', { turnId }));
    await expect(agent.turn(session, 'other', { turnId })).rejects.toMatchObject({
      code: 'TURN_ID_CONFLICT',
    });
    for (let i = 0; i < 100 && llm.calls.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(await agent.getTurn(session, turnId)).toMatchObject({ status: 'running' });
    opened.open();
    const results = await Promise.all(submissions);
    expect(new Set(results.map((result) => result.turn.finalContent))).toEqual(new Set(['re: once']));
    expect(llm.calls).toHaveLength(1);
    await expect(agent.turn(session, 'other', { turnId })).rejects.toMatchObject({
      code: 'TURN_ID_CONFLICT',
    });
  });

  it('reports a locally queued turn as queued and cancels it before it starts', async () => {
    const opened = gate();
    const { agent, llm, session, stores } = await setup(async (call) => {
      await opened.promise;
      return echo(call);
    });
    const running = agent.turn(session, 'first');
    const queuedId = randomUUID();
    const queued = agent.turn(session, 'second', { turnId: queuedId });
    expect(await agent.getTurn(session, queuedId)).toMatchObject({ status: 'queued' });
    expect(await agent.cancelTurn(session, queuedId)).toEqual({ turnId: queuedId, status: 'cancelled' });
    await expect(queued).rejects.toMatchObject({ code: 'TURN_CANCELLED' });
    opened.open();
    await running;
    expect(llm.calls).toHaveLength(1);
    expect((await stores.storage.listRecords(session)).map((r) => r.content)).toEqual(['first', 're: first']);
    await expect(agent.turn(session, 'second', { turnId: queuedId })).rejects.toMatchObject({
      code: 'TURN_CANCELLED',
    });
  });

  it('rejects at once under `reject`, naming the running turn, from the request or the config', async () => {
    const opened = gate();
    const reply: ScriptedReply = async (call) => {
      await opened.promise;
      return echo(call);
    };
    const { agent, session } = await setup(reply);
    const turnId = randomUUID();
    const running = agent.turn(session, 'first', { turnId });
    await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(agent.turn(session, 'second', { concurrency: 'reject' })).rejects.toMatchObject({
      code: 'SESSION_BUSY',
      details: { turnId },
    });
    opened.open();
    await running;

    const strict = await setup(reply, { orchestration: { concurrency: 'reject' } });
    const slow = strict.agent.turn(strict.session, 'slow', { turnId: randomUUID() });
    const busy = strict.agent.turn(strict.session, 'fast').catch((error: unknown) => error);
    expect(await busy).toMatchObject({ code: 'SESSION_BUSY' });
    opened.open();
    await slow;
  });

  it('reports deltas, tool calls and tool results in order from every round', async () => {
    const lookup = tool('lookup', 'looks up', {}, () => ({ found: true }));
    const { agent, session } = await setup(
      (call) =>
        lastMessage(call).role === 'user'
          ? { content: null, toolCalls: [callTool('c1', 'lookup', {})] }
          : { content: 'all done' },
      { capabilities: { tools: [lookup] } },
    );
    const events: TurnProgressEvent[] = [];
    await agent.turn(session, 'go', { onEvent: (event) => events.push(event) });
    expect(events).toEqual([
      { type: 'tool.call', callId: 'c1', name: 'lookup', input: {} },
      { type: 'tool.result', callId: 'c1', ok: true, output: { found: true } },
      { type: 'delta', text: 'all ' },
      { type: 'delta', text: 'done' },
    ]);
  });

  it('gives a stream its turn id at once, and the stored result to a retry of it', async () => {
    const { agent, llm, session } = await setup(echo);
    const stream = agent.stream(session, 'streamed');
    expect(stream.turnId).toMatch(/^[0-9a-f-]{36}$/);
    const deltas: string[] = [];
    for await (const delta of stream) deltas.push(delta);
    const result = await stream.result;
    expect(result.turnId).toBe(stream.turnId);
    expect(deltas.join('')).toBe('re: streamed');
    expect(await agent.turn(session, 'streamed', { turnId: stream.turnId })).toEqual(result);
    expect(llm.calls).toHaveLength(1);
  });

  it('refuses a turn id that is not a UUID and answers TURN_NOT_FOUND without a ledger', async () => {
    const { agent, session } = await setup(echo);
    await expect(agent.turn(session, 'x', { turnId: 'nope' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(await agent.getTurn(session, randomUUID())).toBeNull();
  });
});

describe('StelloAgent bounded turn queue', () => {
  it('refuses turns past maxQueuedTurns on one session with SESSION_BUSY, and runs the ones it accepted', async () => {
    const opened = gate();
    const { agent, llm, session } = await setup(
      async (call) => {
        await opened.promise;
        return echo(call);
      },
      { orchestration: { maxQueuedTurns: 3 } },
    );
    const accepted = [1, 2, 3].map((i) => agent.turn(session, `turn ${i}`));
    await expect(agent.turn(session, 'one too many')).rejects.toMatchObject({
      code: 'SESSION_BUSY',
      details: { maxQueuedTurns: 3 },
    });
    opened.open();
    const results = await Promise.all(accepted);
    expect(results.map((result) => result.turn.finalContent)).toEqual([
      're: turn 1',
      're: turn 2',
      're: turn 3',
    ]);
    expect(llm.calls).toHaveLength(3);
    // The queue is free again.
    expect((await agent.turn(session, 'later')).turn.finalContent).toBe('re: later');
  });
});
