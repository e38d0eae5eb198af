import { tool } from '@stello-ai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSpace, rest } from './__fixtures__/rest-client';
import { createTestStack, type TestStack, type TestUser } from './__fixtures__/test-stack';

const echoTool = tool('echo', 'Echoes its text', { text: z.string() }, ({ text }) => ({ echoed: text }));

describe('createApp', () => {
  let stack: TestStack;
  let alice: TestUser;

  beforeAll(async () => {
    stack = await createTestStack({ tools: [echoTool] });
    alice = await stack.createUser('alice');
  });
  afterAll(() => stack?.close());

  /** A new space of alice and its root session id. */
  const newSpace = (label = 'Space') => createSpace(stack.app, alice.apiKey, { label });
  const call = (method: string, path: string, json?: unknown) =>
    rest(stack.app, method, path, { key: alice.apiKey, ...(json !== undefined && { json }) });

  describe('GET /spaces/:spaceId/sessions', () => {
    it('returns a flat array of sessions with their topology, and the nested tree with ?view=tree', async () => {
      const { spaceId, rootId } = await newSpace('Tree');
      const child = await call('POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, {
        label: 'Child',
        scope: 'code',
      });
      const grandchild = await call('POST', `/spaces/${spaceId}/sessions/${child.body.id}/fork`, {
        label: 'Grand',
      });

      const flat = await call('GET', `/spaces/${spaceId}/sessions`);
      expect(flat.status).toBe(200);
      expect(flat.body).toHaveLength(3);
      const root = flat.body.find((session: { id: string }) => session.id === rootId);
      expect(root).toMatchObject({
        id: rootId,
        parentId: null,
        children: [child.body.id],
        refs: [],
        label: 'Tree',
        index: 0,
        scope: null,
        status: 'active',
        depth: 0,
        turnCount: 0,
        metadata: expect.any(Object),
        tags: [],
        sourceSessionId: null,
      });
      for (const field of ['createdAt', 'updatedAt', 'lastActiveAt'])
        expect(typeof root[field]).toBe('string');

      const tree = await call('GET', `/spaces/${spaceId}/sessions?view=tree`);
      expect(tree.status).toBe(200);
      expect(tree.body).toMatchObject({
        id: rootId,
        depth: 0,
        children: [
          {
            id: child.body.id,
            label: 'Child',
            children: [{ id: grandchild.body.id, depth: 2, children: [] }],
          },
        ],
      });
      expect((await call('GET', `/spaces/${spaceId}/sessions?view=flat`)).body).toHaveLength(3);
    });

    it('rejects an unknown view with 400', async () => {
      const { spaceId } = await newSpace();
      const response = await call('GET', `/spaces/${spaceId}/sessions?view=graph`);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('VALIDATION_ERROR');
    });
  });

  describe('GET /spaces/:spaceId/sessions/:id', () => {
    it('returns the session with its topology', async () => {
      const { spaceId, rootId } = await newSpace('One');
      const response = await call('GET', `/spaces/${spaceId}/sessions/${rootId}`);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        id: rootId,
        label: 'One',
        depth: 0,
        parentId: null,
        children: [],
      });
    });

    it('answers 404 SESSION_NOT_FOUND for an unknown session', async () => {
      const { spaceId } = await newSpace();
      const response = await call('GET', `/spaces/${spaceId}/sessions/${crypto.randomUUID()}`);
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('SESSION_NOT_FOUND');
    });
  });

  describe('POST /spaces/:spaceId/sessions/:id/turn', () => {
    it('runs a turn, stores it and returns the EngineTurnResult', async () => {
      const { spaceId, rootId } = await newSpace();
      const response = await call('POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, {
        input: 'hello there',
      });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        turnId: expect.any(String),
        turn: {
          finalContent: expect.any(String),
          toolRoundCount: 0,
          toolCallsExecuted: 0,
          rawResponse: expect.any(String),
        },
      });
      const messages = await call('GET', `/spaces/${spaceId}/sessions/${rootId}/messages`);
      expect(messages.body).toEqual([
        {
          id: expect.stringMatching(/^\d+$/),
          role: 'user',
          content: 'hello there',
          timestamp: expect.any(String),
        },
        expect.objectContaining({ role: 'assistant', content: response.body.turn.finalContent }),
      ]);
      const session = await call('GET', `/spaces/${spaceId}/sessions/${rootId}`);
      expect(session.body.turnCount).toBe(1);
      const line = stack.logs.find((entry) => entry.event === 'turn' && entry.fields.sessionId === rootId);
      expect(line?.fields).toMatchObject({
        transport: 'rest',
        spaceId,
        toolRounds: 0,
        durationMs: expect.any(Number),
      });
    });

    it('stores tool calls and tool results, visible in messages', async () => {
      const { spaceId, rootId } = await newSpace();
      const response = await call('POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, {
        input: 'please [[tool:echo {"text":"ping"}]]',
      });
      expect(response.status).toBe(200);
      expect(response.body.turn).toMatchObject({ toolRoundCount: 1, toolCallsExecuted: 1 });
      const messages = await call('GET', `/spaces/${spaceId}/sessions/${rootId}/messages`);
      const roles = messages.body.map((record: { role: string }) => record.role);
      expect(roles).toEqual(['user', 'assistant', 'tool', 'assistant']);
      const [, request, result] = messages.body;
      expect(request.toolCalls).toEqual([{ id: expect.any(String), name: 'echo', input: { text: 'ping' } }]);
      expect(result.toolCallId).toBe(request.toolCalls[0].id);
      expect(result.content).toContain('ping');
      const line = stack.logs.find((entry) => entry.event === 'turn' && entry.fields.sessionId === rootId);
      expect(line?.fields.toolRounds).toBe(1);
    });

    it('answers 404 SESSION_NOT_FOUND for an unknown session', async () => {
      const { spaceId } = await newSpace();
      const response = await call('POST', `/spaces/${spaceId}/sessions/${crypto.randomUUID()}/turn`, {
        input: 'hi',
      });
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('SESSION_NOT_FOUND');
    });
  });

  describe('GET /spaces/:spaceId/sessions/:id/messages', () => {
    it('returns the whole history oldest first without paging parameters', async () => {
      const { spaceId, rootId } = await newSpace();
      for (const input of ['one', 'two', 'three'])
        await call('POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, { input });
      const all = await call('GET', `/spaces/${spaceId}/sessions/${rootId}/messages`);
      expect(all.status).toBe(200);
      expect(
        all.body
          .filter((r: { role: string }) => r.role === 'user')
          .map((r: { content: string }) => r.content),
      ).toEqual(['one', 'two', 'three']);
      expect(all.headers.get('x-next-cursor')).toBeNull();
    });

    it('pages with limit and after, with the next cursor in X-Next-Cursor and none on the last page', async () => {
      const { spaceId, rootId } = await newSpace();
      for (const input of ['one', 'two', 'three'])
        await call('POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, { input });
      const all = (await call('GET', `/spaces/${spaceId}/sessions/${rootId}/messages`)).body;
      expect(all).toHaveLength(6);

      const page1 = await call('GET', `/spaces/${spaceId}/sessions/${rootId}/messages?limit=4`);
      expect(page1.body).toEqual(all.slice(0, 4));
      const cursor = page1.headers.get('x-next-cursor');
      expect(cursor).toBeTruthy();
      const page2 = await call(
        'GET',
        `/spaces/${spaceId}/sessions/${rootId}/messages?limit=4&after=${encodeURIComponent(cursor ?? '')}`,
      );
      expect(page2.body).toEqual(all.slice(4));
      expect(page2.headers.get('x-next-cursor')).toBeNull();
    });

    it('rejects a bad limit with 400', async () => {
      const { spaceId, rootId } = await newSpace();
      const response = await call('GET', `/spaces/${spaceId}/sessions/${rootId}/messages?limit=ten`);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('VALIDATION_ERROR');
    });

    it('answers 404 for an unknown session instead of an empty history', async () => {
      const { spaceId } = await newSpace();
      const response = await call('GET', `/spaces/${spaceId}/sessions/${crypto.randomUUID()}/messages`);
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('SESSION_NOT_FOUND');
    });
  });

  describe('POST /spaces/:spaceId/sessions/:id/fork', () => {
    it('creates a child under the session it was called on and returns it with 201', async () => {
      const { spaceId, rootId } = await newSpace();
      const child = await call('POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, {
        label: 'Sub Topic',
        scope: 'coding',
      });
      expect(child.status).toBe(201);
      expect(child.body).toMatchObject({
        parentId: rootId,
        label: 'Sub Topic',
        scope: 'coding',
        depth: 1,
        index: 0,
        status: 'active',
        sourceSessionId: rootId,
        children: [],
      });
      const sibling = await call('POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, {
        label: 'Second',
        scope: null,
      });
      expect(sibling.body).toMatchObject({ index: 1, scope: null });
      const nested = await call('POST', `/spaces/${spaceId}/sessions/${child.body.id}/fork`, {
        label: 'Deeper',
      });
      expect(nested.body).toMatchObject({ parentId: child.body.id, depth: 2 });
    });

    it('copies the parent records with context inherit', async () => {
      const { spaceId, rootId } = await newSpace();
      await call('POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, { input: 'remember this' });
      const child = await call('POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, {
        label: 'Copy',
        context: 'inherit',
      });
      const messages = await call('GET', `/spaces/${spaceId}/sessions/${child.body.id}/messages`);
      expect(messages.body.map((r: { content: string }) => r.content)).toContain('remember this');
    });

    it('answers 404 for an unknown session', async () => {
      const { spaceId } = await newSpace();
      const response = await call('POST', `/spaces/${spaceId}/sessions/${crypto.randomUUID()}/fork`, {
        label: 'x',
      });
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('SESSION_NOT_FOUND');
    });
  });

  describe('POST /spaces/:spaceId/sessions/:id/archive', () => {
    it('archives the session, returns it with sessionId, and refuses turns and forks with 409 afterwards', async () => {
      const { spaceId, rootId } = await newSpace();
      const child = await call('POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, { label: 'Old' });
      await call('POST', `/spaces/${spaceId}/sessions/${child.body.id}/turn`, { input: 'before' });
      const archived = await call('POST', `/spaces/${spaceId}/sessions/${child.body.id}/archive`);
      expect(archived.status).toBe(200);
      expect(archived.body).toMatchObject({
        sessionId: child.body.id,
        id: child.body.id,
        status: 'archived',
        label: 'Old',
      });

      const turn = await call('POST', `/spaces/${spaceId}/sessions/${child.body.id}/turn`, {
        input: 'after',
      });
      expect(turn.status).toBe(409);
      expect(turn.body.code).toBe('SESSION_ARCHIVED');
      const fork = await call('POST', `/spaces/${spaceId}/sessions/${child.body.id}/fork`, { label: 'x' });
      expect(fork.status).toBe(409);
      expect(fork.body.code).toBe('SESSION_ARCHIVED');
      const messages = await call('GET', `/spaces/${spaceId}/sessions/${child.body.id}/messages`);
      expect(messages.status).toBe(200);
      expect(messages.body).toHaveLength(2);
    });

    it('answers 404 for an unknown session', async () => {
      const { spaceId } = await newSpace();
      const response = await call('POST', `/spaces/${spaceId}/sessions/${crypto.randomUUID()}/archive`);
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('SESSION_NOT_FOUND');
    });
  });
});
