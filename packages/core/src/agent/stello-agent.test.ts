import { callTool, createScriptedLLM, flush, gate, lastMessage } from '@internal/testing/scripted-llm';
import type { Session } from '@stello-ai/session';
import { createOfflineAdapter, loadMainSession, loadSession } from '@stello-ai/session';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { echo, setup } from '../__fixtures__/agent-setup';
import { createInMemoryStores } from '../in-memory';
import { tool } from '../tools/tools';
import { createStelloAgent, StelloAgent } from './stello-agent';

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
});
