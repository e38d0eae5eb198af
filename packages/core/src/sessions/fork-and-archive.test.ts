import { flush, gate, lastMessage } from '@internal/testing/scripted-llm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { echo, setup } from '../__fixtures__/agent-setup';

afterEach(() => {
  vi.useRealTimers();
});

describe('StelloAgent', () => {
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
});
