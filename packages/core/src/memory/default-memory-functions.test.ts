import type { ConsolidateFn, LLMCallFn } from '@stello-ai/session';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { echo, setup } from '../__fixtures__/agent-setup';
import type { StelloAgentConfig } from '../agent-types';
import { DEFAULT_CONSOLIDATE_PROMPT, DEFAULT_INTEGRATE_PROMPT } from './defaults';

afterEach(() => {
  vi.useRealTimers();
});

describe('StelloAgent', () => {
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
