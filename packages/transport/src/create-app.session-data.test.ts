import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpace, rest } from './__fixtures__/rest-client';
import { createTestStack, type TestStack, type TestUser } from './__fixtures__/test-stack';

const WRITABLE = ['system-prompt', 'consolidate-prompt', 'integrate-prompt'] as const;
const READ_ONLY = ['memory', 'insight'] as const;

describe('createApp', () => {
  let stack: TestStack;
  let alice: TestUser;

  beforeAll(async () => {
    stack = await createTestStack();
    alice = await stack.createUser('alice');
  });
  afterAll(() => stack?.close());

  const call = (method: string, path: string, json?: unknown) =>
    rest(stack.app, method, path, { key: alice.apiKey, ...(json !== undefined && { json }) });

  /** A new space of alice with a child of the root. */
  const newSpace = async () => {
    const { spaceId, rootId } = await createSpace(stack.app, alice.apiKey, {
      label: 'Data',
      systemPrompt: 'root prompt',
    });
    const child = await call('POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, { label: 'Child' });
    return { spaceId, rootId, childId: child.body.id as string };
  };

  describe('session data routes', () => {
    it('reads every slot as { content: null } when unset, and the root system prompt of the space', async () => {
      const { spaceId, rootId, childId } = await newSpace();
      for (const slot of [...WRITABLE, ...READ_ONLY]) {
        const child = await call('GET', `/spaces/${spaceId}/sessions/${childId}/${slot}`);
        expect(child.status, slot).toBe(200);
        expect(child.body, slot).toEqual({ content: slot === 'system-prompt' ? 'root prompt' : null });
      }
      expect((await call('GET', `/spaces/${spaceId}/sessions/${rootId}/system-prompt`)).body).toEqual({
        content: 'root prompt',
      });
    });

    it('upserts the writable slots with PUT and returns { content }', async () => {
      const { spaceId, childId } = await newSpace();
      for (const slot of WRITABLE) {
        const path = `/spaces/${spaceId}/sessions/${childId}/${slot}`;
        const first = await call('PUT', path, { content: `${slot} v1` });
        expect(first.status, slot).toBe(200);
        expect(first.body).toEqual({ content: `${slot} v1` });
        await call('PUT', path, { content: `${slot} v2` });
        expect((await call('GET', path)).body).toEqual({ content: `${slot} v2` });
        const empty = await call('PUT', path, { content: '' });
        expect(empty.status).toBe(200);
        expect((await call('GET', path)).body).toEqual({ content: '' });
      }
    });

    it('reads the memory after a consolidation and the pending insight', async () => {
      const { spaceId, childId } = await newSpace();
      await call('POST', `/spaces/${spaceId}/sessions/${childId}/turn`, { input: 'a fact worth keeping' });
      const agent = await stack.agentPool.getAgent(spaceId);
      const memory = await agent.consolidateSession(childId);
      await agent.putInsight(childId, 'look at the budget');
      expect((await call('GET', `/spaces/${spaceId}/sessions/${childId}/memory`)).body).toEqual({
        content: memory,
      });
      expect(memory).toBeTruthy();
      expect((await call('GET', `/spaces/${spaceId}/sessions/${childId}/insight`)).body).toEqual({
        content: 'look at the budget',
      });
    });

    it('has no PUT for memory and insight', async () => {
      const { spaceId, childId } = await newSpace();
      for (const slot of READ_ONLY) {
        const response = await call('PUT', `/spaces/${spaceId}/sessions/${childId}/${slot}`, {
          content: 'x',
        });
        expect(response.status).toBe(404);
        expect(response.body.code).toBe('NOT_FOUND');
      }
    });

    it('refuses PUT on an archived session with 409 and keeps the slot', async () => {
      const { spaceId, childId } = await newSpace();
      await call('PUT', `/spaces/${spaceId}/sessions/${childId}/consolidate-prompt`, { content: 'before' });
      await call('POST', `/spaces/${spaceId}/sessions/${childId}/archive`);
      for (const slot of WRITABLE) {
        const response = await call('PUT', `/spaces/${spaceId}/sessions/${childId}/${slot}`, {
          content: 'after',
        });
        expect(response.status, slot).toBe(409);
        expect(response.body.code).toBe('SESSION_ARCHIVED');
      }
      expect((await call('GET', `/spaces/${spaceId}/sessions/${childId}/consolidate-prompt`)).body).toEqual({
        content: 'before',
      });
    });

    it('answers 404 for an unknown session on GET and PUT', async () => {
      const { spaceId } = await newSpace();
      const unknown = crypto.randomUUID();
      for (const slot of [...WRITABLE, ...READ_ONLY]) {
        const get = await call('GET', `/spaces/${spaceId}/sessions/${unknown}/${slot}`);
        expect(get.status, slot).toBe(404);
        expect(get.body.code).toBe('SESSION_NOT_FOUND');
      }
      for (const slot of WRITABLE) {
        const put = await call('PUT', `/spaces/${spaceId}/sessions/${unknown}/${slot}`, { content: 'x' });
        expect(put.status, slot).toBe(404);
        expect(put.body.code).toBe('SESSION_NOT_FOUND');
      }
    });
  });
});
