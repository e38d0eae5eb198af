import type { ScriptedReply } from '@internal/testing/scripted-llm';
import { callTool, createScriptedLLM, gate, lastMessage } from '@internal/testing/scripted-llm';
import type { Message, Session, ToolCall } from '@stello-ai/session';
import { loadSession } from '@stello-ai/session';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Tool } from '../agent-types';
import { createInMemoryStores } from '../in-memory';
import { ToolRegistry, tool } from '../tools/tools';
import type { RunTurnOptions } from './turn-runner';
import { runTurn } from './turn-runner';

const BOUNDED_WAIT_MS = 2_000;

async function setup(reply: ScriptedReply, tools: Tool[] = [], options: { stream?: boolean } = {}) {
  const stores = createInMemoryStores();
  const root = await stores.sessions.createRoot('Space');
  const child = await stores.sessions.createChild({ parentId: root.id, label: 'Child' });
  const llm = createScriptedLLM(reply, options);
  const session = (await loadSession(child.id, { storage: stores.storage, llm })) as Session;
  const registry = new ToolRegistry(tools);
  const run = (input: string, extra: Partial<RunTurnOptions> = {}) =>
    runTurn({
      session,
      input,
      tools: registry,
      toolContext: (call: ToolCall, signal: AbortSignal) => ({
        agent: null as never,
        sessionId: session.id,
        toolCallId: call.id,
        toolName: call.name,
        signal,
      }),
      ...extra,
    });
  const records = () => stores.storage.listRecords(child.id);
  return { stores, llm, session, run, records, childId: child.id };
}

/** Calls the given tools on the first call of a turn, then answers with the tool results quoted. */
function toolsThenText(calls: ToolCall[]): ScriptedReply {
  return (call) => {
    const last = lastMessage(call);
    if (last.role === 'user') return { content: null, toolCalls: calls };
    return { content: `results: ${toolContents(call.messages).join(' | ')}` };
  };
}

function toolContents(messages: Message[]): string[] {
  return messages.filter((message) => message.role === 'tool').map((message) => message.content);
}

describe('runTurn', () => {
  it('executes the tool calls of one round in parallel when the model asks for several', async () => {
    let running = 0;
    let maxRunning = 0;
    const bothStarted = gate();
    const slow = tool('slow', 'waits for its sibling', { name: z.string() }, async ({ name }) => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      if (running === 2) bothStarted.open();
      // Sequential execution would never reach two at once: the bounded wait then fails the test.
      const overlapped = await Promise.race([
        bothStarted.promise.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), BOUNDED_WAIT_MS)),
      ]);
      running -= 1;
      return { name, overlapped };
    });
    const { run, records } = await setup(
      toolsThenText([callTool('a', 'slow', { name: 'a' }), callTool('b', 'slow', { name: 'b' })]),
      [slow],
    );

    const { turn } = await run('go');

    expect(maxRunning).toBe(2);
    expect(turn.toolRoundCount).toBe(1);
    expect(turn.toolCallsExecuted).toBe(2);
    const tools = (await records()).filter((record) => record.role === 'tool');
    expect(tools.map((record) => [record.toolCallId, JSON.parse(record.content)])).toEqual([
      ['a', { name: 'a', overlapped: true }],
      ['b', { name: 'b', overlapped: true }],
    ]);
  });

  it('turns a thrown tool error into an error result and completes the turn', async () => {
    const failing = tool('explode', 'always fails', {}, () => {
      throw new Error('boom');
    });
    const { run, records } = await setup(toolsThenText([callTool('x', 'explode')]), [failing]);

    const { turn } = await run('try it');

    expect(turn.finalContent).toBe('results: {"error":"boom"}');
    const stored = await records();
    expect(stored.map((record) => record.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(stored[2]).toMatchObject({
      toolCallId: 'x',
      content: '{"error":"boom"}',
      metadata: { isError: true },
    });
  });

  it('answers invalid arguments with an error result without running the tool', async () => {
    let executed = false;
    const typed = tool('square', 'squares a number', { n: z.number() }, ({ n }) => {
      executed = true;
      return n * n;
    });
    const { run, records } = await setup(toolsThenText([callTool('q', 'square', { n: 'four' })]), [typed]);

    await run('square four');

    expect(executed).toBe(false);
    const result = (await records()).find((record) => record.role === 'tool');
    expect(result?.metadata).toMatchObject({ isError: true });
    expect(JSON.parse(result?.content ?? '{}').error).toContain('invalid arguments for tool "square"');
  });

  it('answers an unknown tool with an error result', async () => {
    const { run, records } = await setup(toolsThenText([callTool('u', 'no_such_tool')]));

    const { turn } = await run('call something');

    expect(turn.toolCallsExecuted).toBe(1);
    const result = (await records()).find((record) => record.role === 'tool');
    expect(JSON.parse(result?.content ?? '{}')).toEqual({ error: 'unknown tool "no_such_tool"' });
  });

  it('gives strings to the model as they are and other values as json', async () => {
    const text = tool('text', 'returns text', {}, () => 'plain words');
    const nothing = tool('nothing', 'returns nothing', {}, () => undefined);
    const { run, records } = await setup(toolsThenText([callTool('t', 'text'), callTool('n', 'nothing')]), [
      text,
      nothing,
    ]);

    await run('go');

    expect(toolContents(await records())).toEqual(['plain words', 'null']);
  });

  it('stops after maxToolRounds and makes a final call without tools', async () => {
    let counter = 0;
    const counterTool = tool('count', 'counts', {}, () => {
      counter += 1;
      return counter;
    });
    // A model that calls a tool whenever it is offered one.
    const { run, llm, records } = await setup(
      (call) =>
        call.tools.length > 0
          ? { content: null, toolCalls: [callTool(`c${call.index}`, 'count')] }
          : { content: `final after ${counter}` },
      [counterTool],
    );

    const { turn } = await run('loop', { maxToolRounds: 2 });

    expect(turn).toMatchObject({ finalContent: 'final after 2', toolRoundCount: 2, toolCallsExecuted: 2 });
    expect(llm.calls.map((call) => call.tools)).toEqual([['count'], ['count'], []]);
    expect((await records()).map((record) => record.role)).toEqual([
      'user',
      'assistant',
      'tool',
      'assistant',
      'tool',
      'assistant',
    ]);
  });

  it('drops tool calls of the final answer and stores them answered when the model insists', async () => {
    const noop = tool('noop', 'does nothing', {}, () => 'ok');
    const { run, records } = await setup(
      (call) => ({ content: `round ${call.index}`, toolCalls: [callTool(`c${call.index}`, 'noop')] }),
      [noop],
    );

    const { turn } = await run('go', { maxToolRounds: 1 });

    expect(turn.finalContent).toBe('round 1');
    expect(turn.toolRoundCount).toBe(1);
    expect(JSON.parse(turn.rawResponse)).toEqual({ content: 'round 1', toolCalls: [] });
    const stored = await records();
    // Every stored tool call has its result, so the next prompt is valid for every provider.
    const called = stored.flatMap((record) => record.toolCalls?.map((call) => call.id) ?? []);
    const answered = stored.filter((record) => record.role === 'tool').map((record) => record.toolCallId);
    expect(answered).toEqual(called);
    expect(stored.at(-1)).toMatchObject({ role: 'tool', toolCallId: 'c1', metadata: { isError: true } });
  });

  it('serializes the final answer as rawResponse', async () => {
    const { run } = await setup(
      () => ({ content: 'hi', usage: { promptTokens: 3, completionTokens: 1 } }),
      [],
      {
        stream: false,
      },
    );

    const { turn } = await run('hello');

    expect(JSON.parse(turn.rawResponse)).toEqual({
      content: 'hi',
      toolCalls: [],
      usage: { promptTokens: 3, completionTokens: 1 },
    });
  });

  it('streams the text of every round when onDelta is given', async () => {
    const lookup = tool('lookup', 'looks up', {}, () => 'sunny');
    const { run } = await setup(
      (call) =>
        lastMessage(call).role === 'user'
          ? { content: 'Let me check. ', toolCalls: [callTool('l', 'lookup')] }
          : { content: 'It is sunny.' },
      [lookup],
    );
    const deltas: string[] = [];

    const { turn } = await run('weather?', { onDelta: (text) => deltas.push(text) });

    expect(deltas.join('')).toBe('Let me check. It is sunny.');
    expect(deltas.length).toBeGreaterThan(2);
    expect(turn.finalContent).toBe('It is sunny.');
  });

  it('passes the call and the signal to the tool', async () => {
    const seen: unknown[] = [];
    const probe = tool('probe', 'records its context', {}, (_input, context) => {
      seen.push({
        toolCallId: context.toolCallId,
        toolName: context.toolName,
        signal: context.signal instanceof AbortSignal,
      });
      return 'ok';
    });
    const { run } = await setup(toolsThenText([callTool('p1', 'probe')]), [probe]);

    await run('probe');

    expect(seen).toEqual([{ toolCallId: 'p1', toolName: 'probe', signal: true }]);
  });

  it('writes nothing and keeps the insight when aborted mid-stream', async () => {
    const controller = new AbortController();
    const { run, records, stores, childId, llm } = await setup((call) => ({
      content: call.index === 0 ? 'one two three four five six' : 'never',
    }));
    await stores.storage.putInsight(childId, 'remember this');
    const deltas: string[] = [];

    const turn = run('hello', {
      signal: controller.signal,
      onDelta: (text) => {
        deltas.push(text);
        if (deltas.length === 2) controller.abort();
      },
    });

    await expect(turn).rejects.toMatchObject({ code: 'ABORTED' });
    expect(deltas).toHaveLength(2);
    expect(await records()).toEqual([]);
    expect(await stores.storage.getInsight(childId)).toBe('remember this');
    expect(llm.calls[0]?.messages.some((message) => message.content.includes('remember this'))).toBe(true);
    expect((await stores.sessions.get(childId))?.turnCount).toBe(0);
  });

  it('aborts during tool execution, signals the tool and writes nothing', async () => {
    const controller = new AbortController();
    let toolSawAbort = false;
    const hang = tool('hang', 'waits for the abort', {}, (_input, context) => {
      controller.abort();
      toolSawAbort = context.signal.aborted;
      // Never settles: the turn must not wait for a tool that ignores the signal.
      return new Promise(() => {});
    });
    const { run, records } = await setup(toolsThenText([callTool('h', 'hang')]), [hang]);

    await expect(run('go', { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(toolSawAbort).toBe(true);
    expect(await records()).toEqual([]);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const { run, llm } = await setup(() => ({ content: 'x' }));

    await expect(run('go', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(llm.calls).toHaveLength(0);
  });
});
