import type { ScriptedReply } from '@internal/testing/scripted-llm';
import { callTool, flush, gate, lastMessage } from '@internal/testing/scripted-llm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { setup, withTimeout } from '../__fixtures__/agent-setup';
import { StelloAgent } from '../agent/stello-agent';
import { tool } from '../tools/tools';

afterEach(() => {
  vi.useRealTimers();
});

describe('StelloAgent', () => {
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
});
