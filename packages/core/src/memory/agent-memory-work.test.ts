import { callTool, flush, gate, lastMessage } from '@internal/testing/scripted-llm';
import type { ConsolidateFn, IntegrateFn } from '@stello-ai/session';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { echo, setup, withTimeout } from '../__fixtures__/agent-setup';
import { createStelloAgent } from '../agent/stello-agent';
import { createInMemoryStores } from '../in-memory';
import { tool } from '../tools/tools';

afterEach(() => {
  vi.useRealTimers();
});

describe('StelloAgent', () => {
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

    it('sends the default consolidation only the turns since the last one, with the current summary', async () => {
      const prompts: string[] = [];
      const llmCall = vi.fn(async (messages: { role: string; content: string }[]) => {
        const user = messages.at(-1)!.content;
        if (messages[0]!.content.startsWith('You maintain the memory')) {
          prompts.push(user);
          return `summary ${prompts.length}`;
        }
        return JSON.stringify({ synthesis: 'all', insights: [] });
      });
      const { agent, root, fork } = await setup(echo, {
        session: { llmCall },
        orchestration: { consolidateEveryNTurns: 2 },
      });
      const child = await fork(root.id, 'child');

      for (let i = 0; i < 4; i++) await agent.turn(child, `turn-${i}`);
      await agent.idle();

      expect(prompts).toHaveLength(2);
      expect(prompts[0]).toContain('turn-0');
      expect(prompts[1]).toContain('Current summary:\nsummary 1');
      expect(prompts[1]).toContain('turn-2');
      expect(prompts[1]).toContain('turn-3');
      expect(prompts[1]).not.toContain('turn-0');
      expect(prompts[1]).not.toContain('turn-1');
    });

    it('gives a consolidation at most the history window, never the whole history', async () => {
      const consolidateFn = vi.fn<ConsolidateFn>(
        async (_current, messages) => `summary of ${messages.length}`,
      );
      const { agent, root, fork } = await setup(echo, {
        session: { consolidateFn, context: { maxHistoryRecords: 6 } },
        orchestration: { consolidateEveryNTurns: 10 },
      });
      const child = await fork(root.id, 'child');

      for (let i = 0; i < 10; i++) await agent.turn(child, `t${i}`);
      await agent.idle();

      expect(consolidateFn).toHaveBeenCalledTimes(1);
      expect(consolidateFn.mock.calls[0]![1].map((message) => message.content)).toEqual([
        't7',
        expect.any(String),
        't8',
        expect.any(String),
        't9',
        expect.any(String),
      ]);
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

    it('runs every consolidation and integration inside aroundMemoryWork, saying which were asked for', async () => {
      const runs: string[] = [];
      const { agent, root, fork } = await setup(echo, {
        session: {
          consolidateFn: async () => 'summary',
          integrateFn: async () => ({ synthesis: 'all', insights: [] }),
        },
        orchestration: {
          consolidateEveryNTurns: 2,
          aroundMemoryWork: async (work, run) => {
            runs.push(`start ${work.kind} ${work.sessionId ?? '-'} ${work.explicit}`);
            const result = await run();
            runs.push(`end ${work.kind} ${JSON.stringify(result)}`);
            return result;
          },
        },
      });
      const child = await fork(root.id, 'child');

      for (let i = 0; i < 2; i++) await agent.turn(child, `t${i}`);
      await agent.idle();
      expect(await agent.consolidateSession(child)).toBe('summary');
      await agent.idle();

      expect(runs).toEqual([
        `start consolidate ${child} false`,
        'end consolidate "summary"',
        'start integrate - false',
        'end integrate {"synthesis":"all","insights":[]}',
        `start consolidate ${child} true`,
        'end consolidate "summary"',
        'start integrate - false',
        'end integrate {"synthesis":"all","insights":[]}',
      ]);
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
});
