import { PgStores, SubtreeService } from '@stello-ai/runtime';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpace, rest } from './__fixtures__/rest-client';
import { createTestStack, type TestStack, type TestUser } from './__fixtures__/test-stack';
import { createApp } from './create-app';
import type { AuthEnv } from './types';

describe('createApp subtree routes', () => {
  let stack: TestStack;
  let app: Hono<AuthEnv>;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    stack = await createTestStack();
    // The stack's own runtime objects, plus the subtree service (small limits to reach them).
    app = createApp({
      spaceManager: stack.spaceManager,
      agentPool: stack.agentPool,
      userStore: stack.userStore,
      subtrees: new SubtreeService(new PgStores(stack.db.pool), { limits: { maxSessions: 20 } }),
      limits: { bodyBytes: 64 * 1024 },
    });
    alice = await stack.createUser('alice');
    bob = await stack.createUser('bob');
  });
  afterAll(() => stack?.close());

  const call = (method: string, path: string, json?: unknown, key = alice.apiKey) =>
    rest(app, method, path, { key, ...(json !== undefined && { json }) });

  /** A space with a branch: root → Branch (a turn) → Leaf (a turn), and a memory slot on Branch. */
  async function spaceWithBranch(label: string) {
    const { spaceId, rootId } = await createSpace(app, alice.apiKey, { label });
    const branch = await call('POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, { label: 'Branch' });
    const leaf = await call('POST', `/spaces/${spaceId}/sessions/${branch.body.id}/fork`, { label: 'Leaf' });
    await call('POST', `/spaces/${spaceId}/sessions/${branch.body.id}/turn`, { input: 'branch question' });
    await call('POST', `/spaces/${spaceId}/sessions/${leaf.body.id}/turn`, { input: 'leaf question' });
    await call('PUT', `/spaces/${spaceId}/sessions/${branch.body.id}/system-prompt`, {
      content: 'Be brief.',
    });
    return { spaceId, rootId, branchId: branch.body.id as string, leafId: leaf.body.id as string };
  }

  it('round-trips a branch between spaces: export, import under a session, export again identically', async () => {
    const source = await spaceWithBranch('Source');
    const exported = await call('GET', `/spaces/${source.spaceId}/sessions/${source.branchId}/export`);
    expect(exported.status).toBe(200);
    expect(exported.body).toMatchObject({ format: 'stello.subtree', version: 1 });
    expect(exported.body.sessions.map((s: { label: string }) => s.label)).toEqual(['Branch', 'Leaf']);

    const target = await createSpace(app, alice.apiKey, { label: 'Target' });
    const imported = await call(
      'POST',
      `/spaces/${target.spaceId}/sessions/${target.rootId}/import`,
      exported.body,
    );
    expect(imported.status).toBe(201);
    expect(imported.body).toMatchObject({
      id: imported.body.sessionId,
      parentId: target.rootId,
      label: 'Branch',
      depth: 1,
      turnCount: 1,
      children: [imported.body.idMap.s1],
      sessions: 2,
      records: 4,
    });
    expect(Object.keys(imported.body.idMap)).toEqual(['s0', 's1']);

    // Reads through the space's agent see the copy at once.
    const tree = await call('GET', `/spaces/${target.spaceId}/sessions`);
    expect(tree.body).toHaveLength(3);
    const messages = await call(
      'GET',
      `/spaces/${target.spaceId}/sessions/${imported.body.idMap.s1}/messages`,
    );
    expect(messages.body[0]).toMatchObject({ role: 'user', content: 'leaf question' });
    const prompt = await call(
      'GET',
      `/spaces/${target.spaceId}/sessions/${imported.body.sessionId}/system-prompt`,
    );
    expect(prompt.body).toEqual({ content: 'Be brief.' });

    const again = await call('GET', `/spaces/${target.spaceId}/sessions/${imported.body.sessionId}/export`);
    expect(again.body).toEqual(exported.body);
    // And the copy takes turns.
    const turn = await call('POST', `/spaces/${target.spaceId}/sessions/${imported.body.sessionId}/turn`, {
      input: 'more',
    });
    expect(turn.status).toBe(200);
  });

  it('archives a subtree in one call; the seeds archive route still archives one session', async () => {
    const space = await spaceWithBranch('Archive');
    const archived = await call(
      'POST',
      `/spaces/${space.spaceId}/sessions/${space.branchId}/archive-subtree`,
    );
    expect(archived.status).toBe(200);
    expect(archived.body).toMatchObject({
      id: space.branchId,
      sessionId: space.branchId,
      status: 'archived',
      archivedIds: [space.branchId, space.leafId],
    });
    const turn = await call('POST', `/spaces/${space.spaceId}/sessions/${space.leafId}/turn`, { input: 'x' });
    expect(turn.status).toBe(409);
    expect(turn.body.code).toBe('SESSION_ARCHIVED');
    // An import under an archived session is refused the same way.
    const doc = await call('GET', `/spaces/${space.spaceId}/sessions/${space.leafId}/export`);
    const refused = await call('POST', `/spaces/${space.spaceId}/sessions/${space.leafId}/import`, doc.body);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('SESSION_ARCHIVED');

    const main = await call('POST', `/spaces/${space.spaceId}/sessions/${space.rootId}/archive-subtree`);
    expect(main.status).toBe(409);
    expect(main.body.code).toBe('INVALID_OPERATION');

    const other = await spaceWithBranch('Seeds archive');
    const single = await call('POST', `/spaces/${other.spaceId}/sessions/${other.branchId}/archive`);
    expect(single.status).toBe(200);
    const leaf = await call('GET', `/spaces/${other.spaceId}/sessions/${other.leafId}`);
    expect(leaf.body.status).toBe('active');
  });

  it('answers clear 4xx for bad documents, bounds, unknown sessions and other users', async () => {
    const space = await spaceWithBranch('Errors');
    const base = `/spaces/${space.spaceId}/sessions`;
    const before = await call('GET', base);

    const bad = await call('POST', `${base}/${space.rootId}/import`, {
      format: 'stello.subtree',
      version: 1,
      sessions: [{}],
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'document.sessions[0].id' },
    });
    expect(bad.body.error).toContain('document.sessions[0].id');

    const raw = await rest(app, 'POST', `${base}/${space.rootId}/import`, {
      key: alice.apiKey,
      raw: '{"format":',
    });
    expect(raw.status).toBe(400);
    expect(raw.body.code).toBe('INVALID_JSON');

    const tooMany = {
      format: 'stello.subtree',
      version: 1,
      sessions: Array.from({ length: 21 }, (_, i) => ({ id: `s${i}` })),
    };
    const large = await call('POST', `${base}/${space.rootId}/import`, tooMany);
    expect(large.status).toBe(413);
    expect(large.body.code).toBe('SUBTREE_TOO_LARGE');

    const unknown = crypto.randomUUID();
    expect((await call('GET', `${base}/${unknown}/export`)).status).toBe(404);
    expect((await call('POST', `${base}/${unknown}/archive-subtree`)).status).toBe(404);
    const doc = await call('GET', `${base}/${space.branchId}/export`);
    const noParent = await call('POST', `${base}/${unknown}/import`, doc.body);
    expect(noParent.status).toBe(404);
    expect(noParent.body.code).toBe('SESSION_NOT_FOUND');
    expect((await call('GET', `${base}/not-a-uuid/export`)).body.code).toBe('INVALID_ID');
    // Nothing was written by the refused imports.
    expect((await call('GET', base)).body).toEqual(before.body);

    // Another user's space: 403 before anything is read or written.
    const foreign = await call('GET', `${base}/${space.branchId}/export`, undefined, bob.apiKey);
    expect(foreign.status).toBe(403);
    const foreignImport = await call('POST', `${base}/${space.rootId}/import`, doc.body, bob.apiKey);
    expect(foreignImport.status).toBe(403);
  });

  it('has no subtree routes when the app is built without the service', async () => {
    const { spaceId, rootId } = await createSpace(stack.app, alice.apiKey, { label: 'Plain' });
    const response = await rest(stack.app, 'GET', `/spaces/${spaceId}/sessions/${rootId}/export`, {
      key: alice.apiKey,
    });
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('NOT_FOUND');
  });
});
