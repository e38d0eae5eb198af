import type { ScriptedReply } from '@internal/testing/scripted-llm';
import { callTool, createScriptedLLM, flush, gate, lastMessage } from '@internal/testing/scripted-llm';
import type { ConsolidateFn, IntegrateFn, LLMCallFn, Session } from '@stello-ai/session';
import { createOfflineAdapter, loadMainSession, loadSession } from '@stello-ai/session';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { StelloAgentConfig } from './agent-types';
import { DEFAULT_CONSOLIDATE_PROMPT, DEFAULT_INTEGRATE_PROMPT } from './defaults';
import type { AgentErrorEvent } from './hooks';
import { createInMemoryStores } from './in-memory';
import { createStelloAgent, StelloAgent } from './stello-agent';
import { tool } from './tools';

const BOUNDED_WAIT_MS = 2_000;

/** Answers `re: <input>` after yielding a few times, so unserialized turns would interleave. */
const echo: ScriptedReply = async (call) => {
  for (let i = 0; i < 3; i++) await flush();
  return { content: `re: ${lastMessage(call).content}` };
};

type Overrides = Omit<Partial<StelloAgentConfig>, 'sessions' | 'memory' | 'storage'>;

async function setup(reply: ScriptedReply = echo, overrides: Overrides = {}) {
  const stores = createInMemoryStores();
  const llm = createScriptedLLM(reply);
  const agent = createStelloAgent({ ...stores, llm, ...overrides });
  const root = await agent.createRoot('Space');
  const errors: AgentErrorEvent[] = [];
  agent.on('error', (event) => errors.push(event));
  const fork = async (parentId: string, label: string) => (await agent.forkSession(parentId, { label })).id;
  return { stores, llm, agent, root, errors, fork };
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`timed out: ${what}`)), BOUNDED_WAIT_MS),
    ),
  ]);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('StelloAgent', () => {
  describe('construction', () => {
    it('works with only sessions, memory, storage and llm', async () => {
      const stores = createInMemoryStores();
      const agent = new StelloAgent({ ...stores, llm: createScriptedLLM(() => ({ content: 'hello' })) });
      const root = await agent.createRoot('Space');

      const { turn } = await agent.turn(root.id, 'hi');

      expect(turn).toMatchObject({ finalContent: 'hello', toolRoundCount: 0, toolCallsExecuted: 0 });
      expect(agent.sessions).toBe(stores.sessions);
      expect(agent.memory).toBe(stores.memory);
    });

    it('runs a tool turn with the offline model', async () => {
      const stores = createInMemoryStores();
      const add = tool('add', 'adds two numbers', { a: z.number(), b: z.number() }, ({ a, b }) => ({
        sum: a + b,
      }));
      const agent = createStelloAgent({
        ...stores,
        llm: createOfflineAdapter(),
        capabilities: { tools: [add] },
      });
      const root = await agent.createRoot('Space');

      const { turn } = await agent.turn(root.id, 'add please [[tool:add {"a":2,"b":3}]]');

      expect(turn.toolRoundCount).toBe(1);
      const result = (await stores.storage.listRecords(root.id)).find((record) => record.role === 'tool');
      expect(JSON.parse(result?.content ?? '{}')).toEqual({ sum: 5 });
    });

    it('creates the root once when createRoot is called again', async () => {
      const { agent, root } = await setup();

      const again = await agent.createRoot('Other');

      expect(again.id).toBe(root.id);
      expect((await agent.getTree()).id).toBe(root.id);
    });

    it('refuses duplicate tool names', () => {
      const stores = createInMemoryStores();
      const twice = tool('same', 'one', {}, () => 1);
      expect(() => createStelloAgent({ ...stores, capabilities: { tools: [twice, twice] } })).toThrow(
        expect.objectContaining({ code: 'DUPLICATE_TOOL' }),
      );
    });
  });

  describe('turns', () => {
    it('runs 50 concurrent turns on one session one at a time while other sessions run in parallel', async () => {
      const inFlight = new Map<string, number>();
      let overlapOnOneSession = false;
      const otherStarted = gate();
      const reply: ScriptedReply = async (call) => {
        const input = lastMessage(call).content;
        const key = input.split(':')[0] as string;
        inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
        if ((inFlight.get(key) ?? 0) > 1) overlapOnOneSession = true;
        if (key === 'other') otherStarted.open();
        // The first turn of `busy` waits until a turn of `other` runs: that proves parallelism.
        if (input === 'busy:0') await withTimeout(otherStarted.promise, 'parallel session');
        for (let i = 0; i < 3; i++) await flush();
        inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
        return { content: `re: ${input}` };
      };
      const { agent, root, stores, fork } = await setup(reply);
      const busy = await fork(root.id, 'busy');
      const other = await fork(root.id, 'other');

      const turns = Array.from({ length: 50 }, (_, i) => agent.turn(busy, `busy:${i}`));
      const others = [agent.turn(other, 'other:0'), agent.turn(other, 'other:1')];
      const results = await Promise.all([...turns, ...others]);

      expect(overlapOnOneSession).toBe(false);
      expect(results.slice(0, 50).map((result) => result.turn.finalContent)).toEqual(
        Array.from({ length: 50 }, (_, i) => `re: busy:${i}`),
      );
      const records = await stores.storage.listRecords(busy);
      expect(records).toHaveLength(100);
      records.forEach((record, index) => {
        const turn = Math.floor(index / 2);
        expect(record.role).toBe(index % 2 === 0 ? 'user' : 'assistant');
        expect(record.content).toBe(index % 2 === 0 ? `busy:${turn}` : `re: busy:${turn}`);
      });
      expect((await agent.sessions.get(busy))?.turnCount).toBe(50);
      expect((await agent.sessions.get(other))?.turnCount).toBe(2);
      expect(agent.activeTurnCount).toBe(0);
    });

    it('serializes a stream with the turns of its session', async () => {
      const hold = gate();
      const { agent, root, llm, stores } = await setup(async (call) => {
        if (lastMessage(call).content === 'streamed') await hold.promise;
        return { content: `re: ${lastMessage(call).content}` };
      });

      const stream = agent.stream(root.id, 'streamed');
      const turn = agent.turn(root.id, 'after');
      await flush();
      await flush();

      expect(llm.calls).toHaveLength(1);
      expect(agent.activeTurnCount).toBe(2);
      hold.open();
      const deltas: string[] = [];
      for await (const delta of stream) deltas.push(delta);
      await Promise.all([stream.result, turn]);

      expect(deltas.join('')).toBe('re: streamed');
      expect((await stores.storage.listRecords(root.id)).map((record) => record.content)).toEqual([
        'streamed',
        're: streamed',
        'after',
        're: after',
      ]);
    });

    it('streams the text of every round, before and after a tool call', async () => {
      const weather = tool('weather', 'weather of a city', { city: z.string() }, ({ city }) => ({
        city,
        sky: 'clear',
      }));
      const { agent, root } = await setup(
        (call) =>
          lastMessage(call).role === 'user'
            ? { content: 'Checking the sky. ', toolCalls: [callTool('w', 'weather', { city: 'Oslo' })] }
            : { content: 'The sky over Oslo is clear.' },
        { capabilities: { tools: [weather] } },
      );

      const stream = agent.stream(root.id, 'weather in Oslo?');
      const deltas: string[] = [];
      for await (const delta of stream) deltas.push(delta);
      const { turn } = await stream.result;

      expect(deltas.join('')).toBe('Checking the sky. The sky over Oslo is clear.');
      expect(turn).toMatchObject({
        finalContent: 'The sky over Oslo is clear.',
        toolRoundCount: 1,
        toolCallsExecuted: 1,
      });
    });

    it('ends the iteration with the error and rejects result when a stream fails', async () => {
      const { agent, fork, root } = await setup();
      const child = await fork(root.id, 'child');
      await agent.archiveSession(child);

      const stream = agent.stream(child, 'hello');
      const iterate = async () => {
        for await (const _ of stream) {
          // nothing arrives
        }
      };

      await expect(iterate()).rejects.toMatchObject({ code: 'SESSION_ARCHIVED' });
      await expect(stream.result).rejects.toMatchObject({ code: 'SESSION_ARCHIVED' });
    });

    it('writes nothing and keeps the insight when a stream is aborted mid-way', async () => {
      const { agent, root, fork, stores } = await setup(() => ({ content: 'a b c d e f g h' }));
      const child = await fork(root.id, 'child');
      await agent.putInsight(child, 'keep me');
      const controller = new AbortController();

      const stream = agent.stream(child, 'talk', { signal: controller.signal });
      const seen: string[] = [];
      const reading = (async () => {
        for await (const delta of stream) {
          seen.push(delta);
          if (seen.length === 2) controller.abort();
        }
      })();

      await expect(stream.result).rejects.toMatchObject({ code: 'ABORTED' });
      await expect(reading).rejects.toMatchObject({ code: 'ABORTED' });
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(await stores.storage.listRecords(child)).toEqual([]);
      expect(await stores.storage.getInsight(child)).toBe('keep me');
      expect((await agent.sessions.get(child))?.turnCount).toBe(0);
    });

    it('rejects a queued turn at once when its signal aborts, and writes nothing for it', async () => {
      const hold = gate();
      const { agent, root, stores, llm } = await setup(async (call) => {
        if (lastMessage(call).content === 'first') await hold.promise;
        return { content: 'ok' };
      });
      const controller = new AbortController();

      const first = agent.turn(root.id, 'first');
      const second = agent.turn(root.id, 'second', { signal: controller.signal });
      controller.abort();

      await expect(second).rejects.toMatchObject({ code: 'ABORTED' });
      hold.open();
      await first;
      await flush();
      expect(llm.calls).toHaveLength(1);
      expect((await stores.storage.listRecords(root.id)).map((record) => record.content)).toEqual([
        'first',
        'ok',
      ]);
    });

    it('hands the tool its agent and session, and lets a tool act on its own session without deadlock', async () => {
      const seen: string[] = [];
      const note = tool(
        'note',
        'stores an insight and forks',
        { text: z.string() },
        async ({ text }, context) => {
          seen.push(context.sessionId);
          expect(context.agent).toBeInstanceOf(StelloAgent);
          await context.agent.putInsight(context.sessionId, text);
          const child = await context.agent.forkSession(context.sessionId, { label: 'spawned' });
          return { child: child.id };
        },
      );
      const { agent, root, fork, stores } = await setup(
        (call) =>
          lastMessage(call).role === 'user'
            ? { content: null, toolCalls: [callTool('n', 'note', { text: 'later' })] }
            : { content: 'done' },
        { capabilities: { tools: [note] } },
      );
      const child = await fork(root.id, 'child');

      const { turn } = await withTimeout(agent.turn(child, 'note it'), 'tool acting on its own session');

      expect(turn.finalContent).toBe('done');
      expect(seen).toEqual([child]);
      expect(await stores.storage.getInsight(child)).toBe('later');
      expect((await agent.sessions.getNode(child))?.children).toHaveLength(1);
    });

    it('offers activate_skill and returns the skill content when skills are configured', async () => {
      const { agent, root, llm, stores } = await setup(
        (call) =>
          lastMessage(call).role === 'user'
            ? { content: null, toolCalls: [callTool('s', 'activate_skill', { name: 'haiku' })] }
            : { content: 'ok' },
        {
          capabilities: {
            skills: [{ name: 'haiku', description: 'write haiku', content: 'Answer in 5-7-5.' }],
          },
        },
      );

      await agent.turn(root.id, 'poem please');

      expect(llm.calls[0]?.tools).toEqual(['activate_skill']);
      expect(agent.skills.get('haiku')?.content).toBe('Answer in 5-7-5.');
      const result = (await stores.storage.listRecords(root.id)).find((record) => record.role === 'tool');
      expect(result?.content).toBe('Answer in 5-7-5.');
    });

    it('refuses new work once disposed', async () => {
      const { agent, root } = await setup();
      agent.dispose();

      await expect(agent.turn(root.id, 'hi')).rejects.toMatchObject({ code: 'AGENT_DISPOSED' });
      await expect(agent.stream(root.id, 'hi').result).rejects.toMatchObject({ code: 'AGENT_DISPOSED' });
      await expect(agent.archiveSession(root.id)).rejects.toMatchObject({ code: 'AGENT_DISPOSED' });
    });
  });

  describe('forkSession', () => {
    it('builds a real tree: a fork of a child lands under that child', async () => {
      const { agent, root } = await setup();

      const a = await agent.forkSession(root.id, { label: 'A' });
      const b = await agent.forkSession(root.id, { label: 'B' });
      const a1 = await agent.forkSession(a.id, { label: 'A1' });

      expect(a).toMatchObject({
        parentId: root.id,
        depth: 1,
        index: 0,
        sourceSessionId: root.id,
        label: 'A',
      });
      expect(b).toMatchObject({ parentId: root.id, depth: 1, index: 1 });
      expect(a1).toMatchObject({ parentId: a.id, depth: 2, index: 0, sourceSessionId: a.id, turnCount: 0 });
      const tree = await agent.getTree();
      expect(tree.children.map((node) => node.label)).toEqual(['A', 'B']);
      expect(tree.children[0]?.children.map((node) => node.id)).toEqual([a1.id]);
    });

    it('gives concurrent forks of one parent distinct indexes', async () => {
      const { agent, root } = await setup();

      const children = await Promise.all(
        Array.from({ length: 10 }, (_, i) => agent.forkSession(root.id, { label: `c${i}` })),
      );

      expect(children.map((child) => child.index).sort((x, y) => x - y)).toEqual([
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
      ]);
    });

    it('copies the parent system prompt unless one is given, and merges profile defaults', async () => {
      const { agent, root, stores } = await setup(echo, {
        capabilities: {
          profiles: { analyst: { systemPrompt: 'You analyse.', tags: ['analysis'], prompt: 'Ready.' } },
        },
      });
      await stores.storage.putSystemPrompt(root.id, 'Be helpful.');

      const plain = await agent.forkSession(root.id, { label: 'plain' });
      const own = await agent.forkSession(root.id, { label: 'own', systemPrompt: 'Be terse.' });
      const profiled = await agent.forkSession(root.id, {
        label: 'profiled',
        profile: 'analyst',
        tags: ['q3'],
      });

      expect(await stores.storage.getSystemPrompt(plain.id)).toBe('Be helpful.');
      expect(await stores.storage.getSystemPrompt(own.id)).toBe('Be terse.');
      expect(await stores.storage.getSystemPrompt(profiled.id)).toBe('You analyse.');
      expect(profiled.tags).toEqual(['analysis', 'q3']);
      expect((await stores.storage.listRecords(profiled.id)).map((record) => record.content)).toEqual([
        'Ready.',
      ]);
    });

    it('copies the parent records with context inherit', async () => {
      const { agent, root, stores } = await setup();
      await agent.turn(root.id, 'first');

      const child = await agent.forkSession(root.id, { label: 'heir', context: 'inherit' });

      expect((await stores.storage.listRecords(child.id)).map((record) => record.content)).toEqual([
        'first',
        're: first',
      ]);
    });

    it('rejects an unknown profile and an unknown parent', async () => {
      const { agent, root } = await setup();

      await expect(agent.forkSession(root.id, { label: 'x', profile: 'nope' })).rejects.toMatchObject({
        code: 'PROFILE_NOT_FOUND',
      });
      await expect(agent.forkSession('missing', { label: 'x' })).rejects.toMatchObject({
        code: 'SESSION_NOT_FOUND',
      });
    });

    it('fires onSessionFork with the parent and the child', async () => {
      const onSessionFork = vi.fn();
      const { agent, root } = await setup(echo, { orchestration: { hooks: { onSessionFork } } });

      const child = await agent.forkSession(root.id, { label: 'kid' });

      expect(onSessionFork).toHaveBeenCalledWith({
        parentId: root.id,
        child: expect.objectContaining({ id: child.id }),
      });
    });
  });

  describe('archiveSession', () => {
    it('makes a session refuse turns, forks and insights while its data stays readable', async () => {
      const { agent, root, fork, stores } = await setup();
      const child = await fork(root.id, 'child');
      await agent.turn(child, 'before');

      expect(await agent.archiveSession(child)).toEqual({ sessionId: child });

      await expect(agent.turn(child, 'after')).rejects.toMatchObject({ code: 'SESSION_ARCHIVED' });
      await expect(agent.forkSession(child, { label: 'x' })).rejects.toMatchObject({
        code: 'SESSION_ARCHIVED',
      });
      await expect(agent.putInsight(child, 'x')).rejects.toMatchObject({ code: 'SESSION_ARCHIVED' });
      expect((await agent.sessions.get(child))?.status).toBe('archived');
      expect(await stores.storage.listRecords(child)).toHaveLength(2);
      expect((await agent.turn(root.id, 'root still works')).turn.finalContent).toBe('re: root still works');
    });

    it('waits for the running turn of the session before archiving', async () => {
      const hold = gate();
      const { agent, root, fork, stores } = await setup(async (call) => {
        await hold.promise;
        return { content: `re: ${lastMessage(call).content}` };
      });
      const child = await fork(root.id, 'child');

      const turn = agent.turn(child, 'in flight');
      const archived = agent.archiveSession(child);
      await flush();
      expect((await agent.sessions.get(child))?.status).toBe('active');
      hold.open();

      await Promise.all([turn, archived]);
      expect(await stores.storage.listRecords(child)).toHaveLength(2);
      expect((await agent.sessions.get(child))?.status).toBe('archived');
    });

    it('rejects an unknown session', async () => {
      const { agent } = await setup();

      await expect(agent.archiveSession('missing')).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    });
  });

  describe('sessions and holders', () => {
    it('keeps a runtime while it has holders and recycles it at once with idleTtlMs 0', async () => {
      const { agent, root } = await setup(echo, { runtime: { recyclePolicy: { idleTtlMs: 0 } } });

      await agent.attachSession(root.id, 'ws-1');
      await agent.attachSession(root.id, 'ws-2');
      expect(agent.hasActiveEngine(root.id)).toBe(true);
      expect(agent.getEngineRefCount(root.id)).toBe(2);
      expect(agent.isBusy()).toBe(true);

      await agent.detachSession(root.id, 'ws-1');
      expect(agent.hasActiveEngine(root.id)).toBe(true);
      await agent.detachSession(root.id, 'ws-2');
      expect(agent.hasActiveEngine(root.id)).toBe(false);
      expect(agent.getEngineRefCount(root.id)).toBe(0);
      expect(agent.isBusy()).toBe(false);
    });

    it('recycles an idle runtime after idleTtlMs unless it is attached again', async () => {
      vi.useFakeTimers();
      const { agent, root } = await setup(echo, { runtime: { recyclePolicy: { idleTtlMs: 1_000 } } });

      await agent.attachSession(root.id, 'a');
      await agent.detachSession(root.id, 'a');
      vi.advanceTimersByTime(999);
      expect(agent.hasActiveEngine(root.id)).toBe(true);
      await agent.attachSession(root.id, 'b');
      vi.advanceTimersByTime(5_000);
      expect(agent.hasActiveEngine(root.id)).toBe(true);
      await agent.detachSession(root.id, 'b');
      vi.advanceTimersByTime(1_000);
      expect(agent.hasActiveEngine(root.id)).toBe(false);
    });

    it('shares one creation between concurrent attaches', async () => {
      const stores = createInMemoryStores();
      const llm = createScriptedLLM(echo);
      let loads = 0;
      const agent = createStelloAgent({
        ...stores,
        llm,
        session: {
          sessionResolver: async (id): Promise<Session | null> => {
            loads += 1;
            await flush();
            const meta = await stores.storage.getSession(id);
            if (meta?.role === 'main') return loadMainSession(id, { storage: stores.storage, llm });
            return loadSession(id, { storage: stores.storage, llm });
          },
        },
      });
      const root = await agent.createRoot();

      await Promise.all(Array.from({ length: 5 }, (_, i) => agent.attachSession(root.id, `h${i}`)));

      expect(loads).toBe(1);
      expect(agent.getEngineRefCount(root.id)).toBe(5);
    });

    it('rejects attaching an unknown or foreign session and leaves no holder', async () => {
      const { agent } = await setup();
      const elsewhere = createInMemoryStores();
      const foreignRoot = await elsewhere.sessions.createRoot('Other space');

      await expect(agent.attachSession('missing', 'h')).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
      await expect(agent.attachSession(foreignRoot.id, 'h')).rejects.toMatchObject({
        code: 'SESSION_NOT_FOUND',
      });
      expect(agent.getEngineRefCount('missing')).toBe(0);
      expect(agent.hasActiveEngine(foreignRoot.id)).toBe(false);
      expect(agent.isBusy()).toBe(false);
    });

    it('counts a running turn as busy', async () => {
      const hold = gate();
      const { agent, root } = await setup(async () => {
        await hold.promise;
        return { content: 'ok' };
      });

      const turn = agent.turn(root.id, 'hi');
      await flush();
      expect(agent.isBusy()).toBe(true);
      expect(agent.activeTurnCount).toBe(1);
      hold.open();
      await turn;

      expect(agent.activeTurnCount).toBe(0);
      expect(agent.isBusy()).toBe(false);
    });

    it('enters with the assembled context and fires the enter and leave hooks', async () => {
      const onSessionEnter = vi.fn();
      const onSessionLeave = vi.fn();
      const { agent, root, fork, stores } = await setup(echo, {
        orchestration: { hooks: { onSessionEnter, onSessionLeave } },
      });
      const child = await fork(root.id, 'child');
      await stores.storage.putMemory(root.id, 'root memory');

      const entered = await agent.enterSession(child);
      const left = await agent.leaveSession(child);

      expect(entered.session).toMatchObject({ id: child, label: 'child' });
      expect(entered.context.memories).toEqual(['root memory']);
      expect(left).toEqual({ sessionId: child });
      expect(onSessionEnter).toHaveBeenCalledWith({ sessionId: child });
      expect(onSessionLeave).toHaveBeenCalledWith({ sessionId: child });
      await expect(agent.enterSession('missing')).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    });

    it('uses lifecycle.bootstrap when given', async () => {
      const bootstrap = vi.fn(async (sessionId: string) => ({
        context: { core: { custom: true }, memories: [], currentMemory: null, scope: null },
        session: (await stores.sessions.get(sessionId))!,
      }));
      const stores = createInMemoryStores();
      const agent = createStelloAgent({
        ...stores,
        llm: createScriptedLLM(echo),
        capabilities: { lifecycle: { bootstrap } },
      });
      const root = await agent.createRoot();

      const entered = await agent.enterSession(root.id);

      expect(bootstrap).toHaveBeenCalledWith(root.id);
      expect(entered.context.core).toEqual({ custom: true });
    });
  });

  describe('hooks', () => {
    it('never lets a throwing or rejecting hook break a turn, and reports it', async () => {
      const thrower = () => {
        throw new Error('sync hook failure');
      };
      const rejecter = async () => {
        throw new Error('async hook failure');
      };
      const onError = vi.fn();
      const afterTurn = vi.fn(rejecter);
      const lookup = tool('lookup', 'looks up', {}, () => 'found');
      const { agent, root, errors } = await setup(
        (call) =>
          lastMessage(call).role === 'user'
            ? { content: null, toolCalls: [callTool('l', 'lookup')] }
            : { content: 'ok' },
        {
          capabilities: { tools: [lookup], lifecycle: { afterTurn } },
          orchestration: {
            hooks: {
              onMessageReceived: thrower,
              onRoundStart: rejecter,
              onToolCall: thrower,
              onToolResult: rejecter,
              onAssistantReply: thrower,
              onRoundEnd: rejecter,
              onError,
            },
          },
        },
      );

      const { turn } = await agent.turn(root.id, 'hello');
      await flush();

      expect(turn.finalContent).toBe('ok');
      expect(afterTurn).toHaveBeenCalledWith(root.id, 'hello', { turnId: expect.any(String), turn });
      const phases = errors.map((event) => event.phase).sort();
      expect(phases).toEqual(
        [
          'afterTurn',
          'hook:onAssistantReply',
          'hook:onMessageReceived',
          'hook:onRoundEnd',
          'hook:onRoundStart',
          'hook:onRoundStart',
          'hook:onToolCall',
          'hook:onToolResult',
        ].sort(),
      );
      expect(onError).toHaveBeenCalledTimes(errors.length);
      expect(errors.every((event) => event.sessionId === root.id)).toBe(true);
    });

    it('passes a failed turn to onError and to the caller', async () => {
      const onError = vi.fn();
      const { agent, fork, root, errors } = await setup(echo, { orchestration: { hooks: { onError } } });
      const child = await fork(root.id, 'child');
      await agent.archiveSession(child);

      await expect(agent.turn(child, 'hi')).rejects.toMatchObject({ code: 'SESSION_ARCHIVED' });
      expect(onError).toHaveBeenCalledWith(expect.objectContaining({ phase: 'turn', sessionId: child }));
      expect(errors).toEqual([]);
    });

    it('stops delivering error events to a listener removed with off', async () => {
      const { agent, root } = await setup(echo, {
        orchestration: {
          hooks: {
            onRoundEnd: () => {
              throw new Error('x');
            },
          },
        },
      });
      const listener = vi.fn();
      agent.on('error', listener);
      await agent.turn(root.id, 'one');
      agent.off('error', listener);
      await agent.turn(root.id, 'two');

      expect(listener).toHaveBeenCalledTimes(1);
    });
  });

  describe('memory work', () => {
    it('consolidates every N turns in the background and never the root', async () => {
      const consolidateFn = vi.fn<ConsolidateFn>(
        async (_current, messages) => `summary of ${messages.length}`,
      );
      const integrateFn = vi.fn<IntegrateFn>(async () => ({ synthesis: 'all', insights: [] }));
      const { agent, root, fork, stores } = await setup(echo, {
        session: { consolidateFn, integrateFn },
        orchestration: { consolidateEveryNTurns: 2 },
      });
      const child = await fork(root.id, 'child');

      for (let i = 0; i < 5; i++) await agent.turn(child, `t${i}`);
      for (let i = 0; i < 4; i++) await agent.turn(root.id, `ROOT-${i}`);
      await agent.idle();

      expect(consolidateFn).toHaveBeenCalledTimes(2);
      expect(consolidateFn.mock.calls.map((call) => call[1].length)).toEqual([4, 8]);
      expect(await stores.storage.getMemory(child)).toBe('summary of 8');
      expect(
        consolidateFn.mock.calls.some((call) => call[1].some((message) => message.content.includes('ROOT-'))),
      ).toBe(false);
    });

    it('disables automatic consolidation with consolidateEveryNTurns 0', async () => {
      const consolidateFn = vi.fn<ConsolidateFn>(async () => 'x');
      const { agent, root, fork } = await setup(echo, {
        session: { consolidateFn },
        orchestration: { consolidateEveryNTurns: 0 },
      });
      const child = await fork(root.id, 'child');

      for (let i = 0; i < 12; i++) await agent.turn(child, `t${i}`);
      await agent.idle();

      expect(consolidateFn).not.toHaveBeenCalled();
    });

    it('consolidates on leave once per change, never the root, and skips empty sessions', async () => {
      const consolidateFn = vi.fn<ConsolidateFn>(async () => 'summary');
      const { agent, root, fork } = await setup(echo, { session: { consolidateFn } });
      const child = await fork(root.id, 'child');
      const empty = await fork(root.id, 'empty');
      await agent.turn(child, 'hello');
      await agent.turn(root.id, 'hello root');

      await agent.leaveSession(child);
      await agent.idle();
      await agent.leaveSession(child);
      await agent.leaveSession(root.id);
      await agent.leaveSession(empty);
      await agent.idle();

      expect(consolidateFn).toHaveBeenCalledTimes(1);
    });

    it('does not consolidate on leave when consolidateOnLeave is false', async () => {
      const consolidateFn = vi.fn<ConsolidateFn>(async () => 'summary');
      const { agent, root, fork } = await setup(echo, {
        session: { consolidateFn },
        orchestration: { consolidateOnLeave: false },
      });
      const child = await fork(root.id, 'child');
      await agent.turn(child, 'hello');

      await agent.leaveSession(child);
      await agent.idle();

      expect(consolidateFn).not.toHaveBeenCalled();
    });

    it('integrates after consolidations settle and writes synthesis and insights', async () => {
      const order: string[] = [];
      const consolidateFn = vi.fn<ConsolidateFn>(async () => {
        order.push('consolidate');
        return 'child summary';
      });
      const integrateFn = vi.fn<IntegrateFn>(async (children) => {
        order.push('integrate');
        return {
          synthesis: `overview of ${children.length}`,
          insights: children.map((child) => ({
            sessionId: child.sessionId,
            content: `hint for ${child.label}`,
          })),
        };
      });
      const onIntegrated = vi.fn();
      const { agent, root, fork, stores } = await setup(echo, {
        session: { consolidateFn, integrateFn },
        orchestration: { hooks: { onIntegrated } },
      });
      const a = await fork(root.id, 'a');
      const b = await fork(root.id, 'b');
      await agent.turn(a, 'x');
      await agent.turn(b, 'y');

      await agent.leaveSession(a);
      await agent.leaveSession(b);
      await agent.idle();

      expect(order).toEqual(['consolidate', 'consolidate', 'integrate']);
      expect(integrateFn.mock.calls[0]?.[0].map((child) => child.label).sort()).toEqual(['a', 'b']);
      expect(await stores.storage.getMemory(root.id)).toBe('overview of 2');
      expect(await stores.storage.getInsight(a)).toBe('hint for a');
      expect(await stores.storage.getInsight(b)).toBe('hint for b');
      expect(onIntegrated).toHaveBeenCalledWith({ synthesis: 'overview of 2', insightCount: 2 });
    });

    it('does not integrate automatically when integrateAfterConsolidate is false', async () => {
      const integrateFn = vi.fn<IntegrateFn>(async () => ({ synthesis: 's', insights: [] }));
      const { agent, root, fork } = await setup(echo, {
        session: { consolidateFn: async () => 'm', integrateFn },
        orchestration: { integrateAfterConsolidate: false },
      });
      const child = await fork(root.id, 'child');
      await agent.turn(child, 'x');

      await agent.leaveSession(child);
      await agent.idle();

      expect(integrateFn).not.toHaveBeenCalled();
    });

    it('never runs two consolidations of one session or two integrations at once', async () => {
      const release = gate();
      let consolidating = 0;
      let maxConsolidating = 0;
      let integrating = 0;
      let maxIntegrating = 0;
      const consolidateFn = vi.fn<ConsolidateFn>(async () => {
        consolidating += 1;
        maxConsolidating = Math.max(maxConsolidating, consolidating);
        await release.promise;
        consolidating -= 1;
        return 'summary';
      });
      const integrateFn = vi.fn<IntegrateFn>(async () => {
        integrating += 1;
        maxIntegrating = Math.max(maxIntegrating, integrating);
        await flush();
        integrating -= 1;
        return { synthesis: 's', insights: [] };
      });
      const { agent, root, fork } = await setup(echo, {
        session: { consolidateFn, integrateFn },
        orchestration: { consolidateEveryNTurns: 1 },
      });
      const child = await fork(root.id, 'child');

      for (let i = 0; i < 5; i++) await agent.turn(child, `t${i}`);
      const explicit = [agent.integrate(), agent.integrate(), agent.integrate()];
      await flush();
      release.open();
      await Promise.all(explicit);
      await agent.idle();

      expect(maxConsolidating).toBe(1);
      expect(maxIntegrating).toBe(1);
      // The first run, then one coalesced rerun for all requests that arrived meanwhile.
      expect(consolidateFn).toHaveBeenCalledTimes(2);
      expect(integrateFn.mock.calls.length).toBeLessThanOrEqual(3);
    });

    it('does not hold up the next turn of a session while its consolidation waits for the model', async () => {
      const release = gate();
      const consolidateFn = vi.fn<ConsolidateFn>(async () => {
        await release.promise;
        return 'late summary';
      });
      const { agent, root, fork, stores } = await setup(echo, {
        session: { consolidateFn, integrateFn: async () => ({ synthesis: 's', insights: [] }) },
        orchestration: { consolidateEveryNTurns: 1 },
      });
      const child = await fork(root.id, 'child');
      await agent.turn(child, 'first');
      await flush();
      expect(consolidateFn).toHaveBeenCalledTimes(1);

      const { turn } = await withTimeout(agent.turn(child, 'second'), 'turn during consolidation');

      expect(turn.finalContent).toBe('re: second');
      release.open();
      await agent.idle();
      expect(await stores.storage.getMemory(child)).toBe('late summary');
    });

    it('does not write a memory when the session was archived during consolidation', async () => {
      const release = gate();
      const { agent, root, fork, stores } = await setup(echo, {
        session: {
          consolidateFn: async () => {
            await release.promise;
            return 'too late';
          },
        },
      });
      const child = await fork(root.id, 'child');
      await agent.turn(child, 'hello');

      const consolidation = agent.consolidateSession(child);
      await flush();
      await agent.archiveSession(child);
      release.open();

      expect(await consolidation).toBeNull();
      expect(await stores.storage.getMemory(child)).toBeNull();
    });

    it('lets a tool consolidate its own session without deadlock', async () => {
      const summarize = tool('summarize', 'consolidates this session', {}, (_input, context) =>
        context.agent.consolidateSession(context.sessionId),
      );
      const { agent, root, fork } = await setup(
        (call) =>
          lastMessage(call).content === 'summarize now'
            ? { content: null, toolCalls: [callTool('s', 'summarize')] }
            : { content: `re: ${lastMessage(call).content}` },
        {
          capabilities: { tools: [summarize] },
          session: { consolidateFn: async (_current, messages) => `${messages.length} records` },
        },
      );
      const child = await fork(root.id, 'child');
      await agent.turn(child, 'hello');

      const { turn } = await withTimeout(
        agent.turn(child, 'summarize now'),
        'tool consolidating its session',
      );

      expect(turn.finalContent).toBe('re: 2 records');
    });

    it('emits background failures as error events and to onError', async () => {
      const onError = vi.fn();
      const { agent, root, fork, errors } = await setup(echo, {
        session: {
          consolidateFn: async () => {
            throw new Error('consolidation broke');
          },
          integrateFn: async () => ({ synthesis: 's', insights: [] }),
        },
        orchestration: { consolidateEveryNTurns: 1, hooks: { onError } },
      });
      const child = await fork(root.id, 'child');

      const { turn } = await agent.turn(child, 'hi');
      await agent.idle();

      expect(turn.finalContent).toBe('re: hi');
      expect(errors).toEqual([
        expect.objectContaining({ phase: 'consolidate', sessionId: child, error: expect.any(Error) }),
      ]);
      expect(onError).toHaveBeenCalledWith(
        expect.objectContaining({ phase: 'consolidate', sessionId: child }),
      );
    });

    it('consolidates and integrates on request', async () => {
      const { agent, root, fork, stores } = await setup(echo, {
        session: {
          consolidateFn: async (_current, messages) => `${messages.length} messages`,
          integrateFn: async (children) => ({
            synthesis: 'together',
            insights: [...children.map((child) => ({ sessionId: child.sessionId, content: 'go on' }))],
          }),
        },
        orchestration: {
          consolidateOnLeave: false,
          consolidateEveryNTurns: 0,
          integrateAfterConsolidate: false,
        },
      });
      const child = await fork(root.id, 'child');
      await agent.turn(child, 'one');

      expect(await agent.consolidateSession(child)).toBe('2 messages');
      expect(await agent.consolidateSession(child)).toBe('2 messages');
      const result = await agent.integrate();

      expect(result).toEqual({ synthesis: 'together', insights: [{ sessionId: child, content: 'go on' }] });
      expect(await stores.storage.getInsight(child)).toBe('go on');
      await expect(agent.consolidateSession(root.id)).rejects.toMatchObject({ code: 'INVALID_OPERATION' });
      await expect(agent.consolidateSession('missing')).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
      await agent.archiveSession(child);
      await expect(agent.consolidateSession(child)).rejects.toMatchObject({ code: 'SESSION_ARCHIVED' });
    });

    it('rejects explicit memory work without a model or a function', async () => {
      const stores = createInMemoryStores();
      const agent = createStelloAgent(stores);
      const root = await agent.createRoot();
      const child = await agent.forkSession(root.id, { label: 'c' });

      await expect(agent.consolidateSession(child.id)).rejects.toMatchObject({ code: 'NO_LLM' });
      await expect(agent.integrate()).rejects.toMatchObject({ code: 'NO_LLM' });
    });
  });

  describe('default memory functions', () => {
    async function defaultSetup(session: StelloAgentConfig['session'] = {}) {
      const prompts: string[] = [];
      const llmCall = vi.fn<LLMCallFn>(async (messages) => {
        prompts.push(messages[0]?.content ?? '');
        const user = messages[1]?.content ?? '';
        if (!user.includes('Sessions:')) return '<think>pondering</think>  fresh summary  ';
        const ids = [...user.matchAll(/sessionId=([^\]]+)\]/g)].map((match) => match[1]);
        return `Here you go: ${JSON.stringify({
          synthesis: 'the big picture',
          insights: [
            ...ids.map((id) => ({ sessionId: id, content: 'a hint' })),
            { sessionId: 'ghost', content: 'x' },
          ],
        })}`;
      });
      const context = await setup(echo, {
        session: { llmCall, ...session },
        orchestration: {
          consolidateEveryNTurns: 0,
          consolidateOnLeave: false,
          integrateAfterConsolidate: false,
        },
      });
      const child = await context.fork(context.root.id, 'child');
      await context.agent.turn(child, 'hello');
      return { ...context, child, prompts, llmCall };
    }

    it('uses the built-in prompts when nothing else is set', async () => {
      const { agent, child, prompts, stores } = await defaultSetup();

      expect(await agent.consolidateSession(child)).toBe('fresh summary');
      const result = await agent.integrate();

      expect(prompts).toEqual([DEFAULT_CONSOLIDATE_PROMPT, DEFAULT_INTEGRATE_PROMPT]);
      expect(result.insights).toEqual([{ sessionId: child, content: 'a hint' }]);
      expect(await stores.storage.getMemory(child)).toBe('fresh summary');
    });

    it('prefers the space prompts over the built-in ones', async () => {
      const { agent, child, prompts } = await defaultSetup({
        consolidatePrompt: 'SPACE CONSOLIDATE',
        integratePrompt: 'SPACE INTEGRATE',
      });

      await agent.consolidateSession(child);
      await agent.integrate();

      expect(prompts).toEqual(['SPACE CONSOLIDATE', 'SPACE INTEGRATE']);
    });

    it('prefers the session slots over the space prompts', async () => {
      const { agent, child, prompts, stores, root } = await defaultSetup({
        consolidatePrompt: 'SPACE CONSOLIDATE',
        integratePrompt: 'SPACE INTEGRATE',
      });
      await stores.storage.putSlot(child, 'consolidate_prompt', 'SLOT CONSOLIDATE');
      await stores.storage.putSlot(root.id, 'integrate_prompt', 'SLOT INTEGRATE');

      await agent.consolidateSession(child);
      await agent.integrate();

      expect(prompts).toEqual(['SLOT CONSOLIDATE', 'SLOT INTEGRATE']);
    });

    it('builds the default over llm.complete when no llmCall is given', async () => {
      const { agent, root, fork, llm, stores } = await setup((call) => ({
        content:
          call.tools.length === 0 && call.messages[0]?.content === DEFAULT_CONSOLIDATE_PROMPT
            ? 'L2'
            : 'reply',
      }));
      const child = await fork(root.id, 'child');
      await agent.turn(child, 'hello');

      await agent.consolidateSession(child);

      expect(await stores.storage.getMemory(child)).toBe('L2');
      expect(llm.calls.at(-1)?.messages[0]?.content).toBe(DEFAULT_CONSOLIDATE_PROMPT);
    });

    it('lets explicit functions win over the defaults', async () => {
      const consolidateFn = vi.fn<ConsolidateFn>(async () => 'explicit');
      const { agent, child, llmCall } = await defaultSetup({ consolidateFn });

      expect(await agent.consolidateSession(child)).toBe('explicit');
      expect(llmCall).not.toHaveBeenCalled();
    });

    it('writes nothing and reports the error when the integration reply is malformed', async () => {
      const { agent, root, fork, stores, errors } = await setup(echo, {
        session: {
          consolidateFn: async () => 'summary',
          llmCall: async () => '{"synthesis": 42}',
        },
      });
      const child = await fork(root.id, 'child');
      await agent.turn(child, 'hi');
      await stores.storage.putMemory(root.id, 'old synthesis');

      await agent.leaveSession(child);
      await agent.idle();

      expect(errors).toEqual([
        expect.objectContaining({
          phase: 'integrate',
          error: expect.objectContaining({ code: 'INVALID_MODEL_REPLY' }),
        }),
      ]);
      expect(await stores.storage.getMemory(root.id)).toBe('old synthesis');
      await expect(agent.integrate()).rejects.toMatchObject({ code: 'INVALID_MODEL_REPLY' });
    });
  });
});
