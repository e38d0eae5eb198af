import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest } from './__fixtures__/rest-client';
import { createTestStack, type TestStack, type TestUser } from './__fixtures__/test-stack';
import { createApp } from './create-app';

describe('createApp', () => {
  let stack: TestStack;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    stack = await createTestStack();
    alice = await stack.createUser('alice');
    bob = await stack.createUser('bob');
  });
  afterAll(() => stack?.close());

  const createSpace = async (user: TestUser, body: Record<string, unknown> = { label: 'Space' }) => {
    const response = await rest(stack.app, 'POST', '/spaces', { key: user.apiKey, json: body });
    expect(response.status).toBe(201);
    return response.body as { id: string; userId: string; label: string };
  };

  describe('health', () => {
    it('answers GET /healthz without a key', async () => {
      const response = await rest(stack.app, 'GET', '/healthz');
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ status: 'ok' });
    });

    it('answers GET /readyz 200 when the probe is true and 503 when it is false or throws', async () => {
      const deps = {
        spaceManager: stack.spaceManager,
        agentPool: stack.agentPool,
        userStore: stack.userStore,
      };
      expect((await rest(stack.app, 'GET', '/readyz')).body).toEqual({ status: 'ready' });
      const down = createApp({ ...deps, readiness: async () => false });
      const notReady = await rest(down, 'GET', '/readyz');
      expect(notReady.status).toBe(503);
      expect(notReady.body).toMatchObject({ status: 'not_ready', code: 'NOT_READY' });
      const broken = createApp({ ...deps, readiness: () => Promise.reject(new Error('db down')) });
      expect((await rest(broken, 'GET', '/readyz')).status).toBe(503);
    });
  });

  describe('POST /spaces', () => {
    it('creates a space owned by the caller with its root session when the body is valid', async () => {
      const response = await rest(stack.app, 'POST', '/spaces', {
        key: alice.apiKey,
        json: {
          label: 'My Space',
          systemPrompt: 'You are helpful.',
          consolidatePrompt: 'Summarize.',
          integratePrompt: 'Integrate.',
          config: { consolidateEveryNTurns: 3 },
          userId: bob.userId,
          id: '00000000-0000-4000-8000-000000000000',
        },
      });
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({
        userId: alice.userId,
        label: 'My Space',
        systemPrompt: 'You are helpful.',
        consolidatePrompt: 'Summarize.',
        integratePrompt: 'Integrate.',
        config: { consolidateEveryNTurns: 3 },
      });
      expect(response.body.id).not.toBe('00000000-0000-4000-8000-000000000000');
      expect(typeof response.body.createdAt).toBe('string');

      const sessions = await rest(stack.app, 'GET', `/spaces/${response.body.id}/sessions`, {
        key: alice.apiKey,
      });
      expect(sessions.body).toHaveLength(1);
      expect(sessions.body[0]).toMatchObject({
        label: 'My Space',
        parentId: null,
        depth: 0,
        status: 'active',
      });
      const prompt = await rest(
        stack.app,
        'GET',
        `/spaces/${response.body.id}/sessions/${sessions.body[0].id}/system-prompt`,
        {
          key: alice.apiKey,
        },
      );
      expect(prompt.body).toEqual({ content: 'You are helpful.' });
    });

    it('treats null prompts as absent', async () => {
      const space = await createSpace(alice, { label: 'Nulls', systemPrompt: null });
      expect(space).toMatchObject({
        systemPrompt: null,
        consolidatePrompt: null,
        integratePrompt: null,
        config: {},
      });
    });
  });

  describe('GET /spaces', () => {
    it("lists only the caller's spaces, oldest first", async () => {
      const carol = await stack.createUser('carol');
      const first = await createSpace(carol, { label: 'first' });
      const second = await createSpace(carol, { label: 'second' });
      await createSpace(bob, { label: 'not carol' });
      const response = await rest(stack.app, 'GET', '/spaces', { key: carol.apiKey });
      expect(response.status).toBe(200);
      expect(response.body.map((space: { id: string }) => space.id)).toEqual([first.id, second.id]);
      expect(response.headers.get('x-next-cursor')).toBeNull();
    });

    it('pages with limit and after, giving the next cursor in X-Next-Cursor', async () => {
      const dave = await stack.createUser('dave');
      const ids = [];
      for (const label of ['a', 'b', 'c']) ids.push((await createSpace(dave, { label })).id);
      const page1 = await rest(stack.app, 'GET', '/spaces?limit=2', { key: dave.apiKey });
      expect(page1.body.map((space: { id: string }) => space.id)).toEqual(ids.slice(0, 2));
      const cursor = page1.headers.get('x-next-cursor');
      expect(cursor).toBe(ids[1]);
      const page2 = await rest(stack.app, 'GET', `/spaces?limit=2&after=${cursor}`, { key: dave.apiKey });
      expect(page2.body.map((space: { id: string }) => space.id)).toEqual(ids.slice(2));
      expect(page2.headers.get('x-next-cursor')).toBeNull();
    });

    it('rejects a bad limit with 400 VALIDATION_ERROR', async () => {
      for (const query of ['limit=abc', 'limit=0', 'limit=5000', 'limit=-1']) {
        const response = await rest(stack.app, 'GET', `/spaces?${query}`, { key: alice.apiKey });
        expect(response.status, query).toBe(400);
        expect(response.body.code).toBe('VALIDATION_ERROR');
      }
    });
  });

  describe('GET /spaces/:spaceId', () => {
    it('returns the space', async () => {
      const space = await createSpace(alice, { label: 'Detail' });
      const response = await rest(stack.app, 'GET', `/spaces/${space.id}`, { key: alice.apiKey });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: space.id, label: 'Detail', userId: alice.userId });
    });
  });

  describe('PATCH /spaces/:spaceId', () => {
    it('updates only the given fields, syncs the root prompt and label, and clears a prompt with null', async () => {
      const space = await createSpace(alice, {
        label: 'Before',
        systemPrompt: 'old',
        consolidatePrompt: 'keep',
      });
      const updated = await rest(stack.app, 'PATCH', `/spaces/${space.id}`, {
        key: alice.apiKey,
        json: { label: 'After', systemPrompt: 'new', config: { a: 1 }, userId: bob.userId },
      });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({
        label: 'After',
        systemPrompt: 'new',
        consolidatePrompt: 'keep',
        config: { a: 1 },
        userId: alice.userId,
      });
      const fetched = await rest(stack.app, 'GET', `/spaces/${space.id}`, { key: alice.apiKey });
      expect(fetched.body).toMatchObject({ label: 'After', systemPrompt: 'new' });

      const sessions = await rest(stack.app, 'GET', `/spaces/${space.id}/sessions`, { key: alice.apiKey });
      const rootId = sessions.body[0].id;
      expect(sessions.body[0].label).toBe('After');
      const prompt = () =>
        rest(stack.app, 'GET', `/spaces/${space.id}/sessions/${rootId}/system-prompt`, { key: alice.apiKey });
      expect((await prompt()).body).toEqual({ content: 'new' });

      const cleared = await rest(stack.app, 'PATCH', `/spaces/${space.id}`, {
        key: alice.apiKey,
        json: { systemPrompt: null, consolidatePrompt: null },
      });
      expect(cleared.status).toBe(200);
      expect(cleared.body).toMatchObject({ systemPrompt: null, consolidatePrompt: null, label: 'After' });
      expect((await prompt()).body).toEqual({ content: null });
    });

    it('returns the space unchanged when the body has no known field', async () => {
      const space = await createSpace(alice, { label: 'Same' });
      const response = await rest(stack.app, 'PATCH', `/spaces/${space.id}`, {
        key: alice.apiKey,
        json: { foo: 1 },
      });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: space.id, label: 'Same' });
    });
  });

  describe('DELETE /spaces/:spaceId', () => {
    it('deletes the space and everything in it with 204', async () => {
      const space = await createSpace(alice, { label: 'Doomed' });
      const response = await rest(stack.app, 'DELETE', `/spaces/${space.id}`, { key: alice.apiKey });
      expect(response.status).toBe(204);
      expect(response.text).toBe('');
      for (const path of [`/spaces/${space.id}`, `/spaces/${space.id}/sessions`]) {
        const after = await rest(stack.app, 'GET', path, { key: alice.apiKey });
        expect(after.status).toBe(404);
        expect(after.body).toEqual({ error: expect.any(String), code: 'SPACE_NOT_FOUND' });
      }
      const list = await rest(stack.app, 'GET', '/spaces', { key: alice.apiKey });
      expect(list.body.map((s: { id: string }) => s.id)).not.toContain(space.id);
    });
  });

  describe('requests', () => {
    it('echoes a sane X-Request-Id and logs one line per request without the key', async () => {
      const response = await rest(stack.app, 'GET', '/spaces', {
        key: alice.apiKey,
        headers: { 'x-request-id': 'req-123' },
      });
      expect(response.headers.get('x-request-id')).toBe('req-123');
      const line = stack.logs.find(
        (entry) => entry.event === 'http.request' && entry.fields.requestId === 'req-123',
      );
      expect(line?.fields).toMatchObject({
        method: 'GET',
        route: '/spaces',
        status: 200,
        userId: alice.userId,
        durationMs: expect.any(Number),
      });
      expect(JSON.stringify(stack.logs)).not.toContain(alice.apiKey);
    });

    it('logs the route pattern, not the ids, and the status of errors', async () => {
      const space = await createSpace(alice);
      await rest(stack.app, 'GET', `/spaces/${space.id}`, {
        key: bob.apiKey,
        headers: { 'x-request-id': 'req-403' },
      });
      const line = stack.logs.find((entry) => entry.fields.requestId === 'req-403');
      expect(line?.fields).toMatchObject({ route: '/spaces/:spaceId', status: 403, userId: bob.userId });
    });

    it('generates a request id when the given one is missing or unsafe', async () => {
      const none = await rest(stack.app, 'GET', '/healthz');
      expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const unsafe = await rest(stack.app, 'GET', '/healthz', {
        headers: { 'x-request-id': 'bad id\twith spaces' },
      });
      expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('answers an unknown route with 404 NOT_FOUND JSON', async () => {
      const outside = await rest(stack.app, 'GET', '/nope');
      expect(outside.status).toBe(404);
      expect(outside.body).toEqual({ error: expect.any(String), code: 'NOT_FOUND' });
      const space = await createSpace(alice);
      const inside = await rest(stack.app, 'GET', `/spaces/${space.id}/nope`, { key: alice.apiKey });
      expect(inside.status).toBe(404);
      expect(inside.body.code).toBe('NOT_FOUND');
    });
  });
});
