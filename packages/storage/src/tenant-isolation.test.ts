import { createTestDatabase, expectCode, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpaceFixture, type SpaceFixture } from './__fixtures__/space-fixture';

let database: TestDatabase;
let mine: SpaceFixture;
let theirs: SpaceFixture;
let foreignChildId: string;
let myChildId: string;

/** Everything the other space holds, read straight from the tables. */
async function snapshot(spaceId: string): Promise<unknown> {
  const { rows } = await database.pool.query(
    `SELECT
       (SELECT json_agg(s ORDER BY s.id) FROM sessions s WHERE s.space_id = $1) AS sessions,
       (SELECT json_agg(r ORDER BY r.id) FROM records r WHERE r.space_id = $1) AS records,
       (SELECT json_agg(d ORDER BY d.session_id, d.key) FROM session_data d WHERE d.space_id = $1) AS slots,
       (SELECT json_agg(f ORDER BY f.from_id, f.to_id) FROM session_refs f WHERE f.space_id = $1) AS refs,
       (SELECT json_agg(c ORDER BY c.path) FROM core_data c WHERE c.space_id = $1) AS core`,
    [spaceId],
  );
  return rows[0];
}

beforeAll(async () => {
  database = await createTestDatabase();
  [mine, theirs] = await Promise.all([
    createSpaceFixture(database.pool, 'mine'),
    createSpaceFixture(database.pool, 'theirs'),
  ]);
  const foreign = await theirs.storage.createChild(theirs.rootId, {
    label: 'secret',
    systemPrompt: 'secret prompt',
    records: [{ role: 'user', content: 'secret record' }],
  });
  foreignChildId = foreign.id;
  const sibling = await theirs.sessions.createChild({ parentId: theirs.rootId, label: 'secret sibling' });
  await theirs.sessions.addRef(foreign.id, sibling.id);
  for (const id of [theirs.rootId, foreign.id]) {
    await theirs.storage.putMemory(id, 'secret memory');
    await theirs.storage.putInsight(id, 'secret insight');
    await theirs.memory.writeScope(id, 'secret scope');
    await theirs.memory.writeIndex(id, 'secret index');
  }
  await theirs.memory.writeCore('shared-key', 'secret core');
  myChildId = (await mine.storage.createChild(mine.rootId, { label: 'my child' })).id;
});

afterAll(async () => {
  await database.drop();
});

describe('tenant isolation', () => {
  it('hides every session, record, slot, ref and core value of another space from reads', async () => {
    const { storage, sessions, memory } = mine;
    for (const id of [theirs.rootId, foreignChildId]) {
      expect(await storage.getSession(id)).toBeNull();
      expect(await storage.getSessionRow(id)).toBeNull();
      expect(await storage.listRecords(id)).toEqual([]);
      expect(await storage.getSystemPrompt(id)).toBeNull();
      expect(await storage.getInsight(id)).toBeNull();
      expect(await storage.getMemory(id)).toBeNull();
      expect(await storage.getSlot(id, 'scope')).toBeNull();
      expect(await storage.loadTurnContext(id, { maxRecords: 10 })).toBeNull();
      expect(await storage.getChildren(id)).toEqual([]);
      expect(await sessions.get(id)).toBeNull();
      expect(await sessions.getNode(id)).toBeNull();
      expect(await sessions.getInfo(id)).toBeNull();
      expect(await sessions.getAncestors(id)).toEqual([]);
      expect(await sessions.getSiblings(id)).toEqual([]);
      expect(await memory.readMemory(id)).toBeNull();
      expect(await memory.readScope(id)).toBeNull();
      expect(await memory.readIndex(id)).toBeNull();
      expect(await memory.readRecords(id)).toEqual([]);
      expect(await memory.readRecordPage(id, { limit: 10 })).toEqual({ records: [], nextCursor: null });
      await expectCode(memory.assembleContext(id), 'SESSION_NOT_FOUND');
    }
    const myIds = [mine.rootId, myChildId];
    expect((await storage.listSessions()).map((s) => s.id)).toEqual(myIds);
    expect(await storage.getAllSessionL2s()).toEqual([]);
    expect(await storage.getGlobal('shared-key')).toBeNull();
    expect((await sessions.getRoot()).id).toBe(mine.rootId);
    expect((await sessions.createRoot()).id).toBe(mine.rootId);
    expect((await sessions.listAll()).map((s) => s.id)).toEqual(myIds);
    expect((await sessions.listInfo()).map((s) => s.id)).toEqual(myIds);
    expect((await sessions.getTree()).children.map((c) => c.id)).toEqual([myChildId]);
    expect(await memory.readCore('shared-key')).toBeNull();
    expect(await memory.readCore()).toEqual({});
  });

  it('refuses every write aimed at another space and changes nothing there', async () => {
    // A turn of theirs holds a lease: an owner of the same name here must not touch it.
    const lease = { owner: 'their-turn', ttlMs: 600_000 };
    await theirs.storage.loadTurnContext(foreignChildId, { maxRecords: 1, lease });
    const before = await snapshot(theirs.spaceId);
    const { storage, sessions, memory } = mine;
    const record = { role: 'user' as const, content: 'injected', timestamp: new Date().toISOString() };
    for (const id of [theirs.rootId, foreignChildId]) {
      const meta = (await theirs.storage.getSession(id))!;
      // Their root cannot be a second root here; their child's id is taken (putSession would create it).
      await expectCode(
        storage.putSession({ ...meta, label: 'hijacked' }),
        meta.role === 'main' ? 'SESSION_NOT_FOUND' : 'CONFLICT',
      );
      await expectCode(storage.appendRecord(id, record), 'SESSION_NOT_FOUND');
      await expectCode(storage.trimRecords(id, 0), 'SESSION_NOT_FOUND');
      await expectCode(storage.putSystemPrompt(id, 'x'), 'SESSION_NOT_FOUND');
      await expectCode(storage.putInsight(id, 'x'), 'SESSION_NOT_FOUND');
      await expectCode(storage.clearInsight(id), 'SESSION_NOT_FOUND');
      await expectCode(storage.putMemory(id, 'x'), 'SESSION_NOT_FOUND');
      await expectCode(storage.putSlot(id, 'integrate_prompt', 'x'), 'SESSION_NOT_FOUND');
      await expectCode(
        storage.commitTurn(id, { records: [record], countTurn: true, consumeInsight: 'secret insight' }),
        'SESSION_NOT_FOUND',
      );
      await expectCode(storage.createChild(id, { label: 'x' }), 'SESSION_NOT_FOUND');
      expect(await storage.loadTurnContext(id, { maxRecords: 1, lease })).toBeNull();
      expect(await storage.renewTurnLease(id, lease.owner, lease.ttlMs)).toBe(false);
      await storage.releaseTurnLease(id, lease.owner);
      await expectCode(
        storage.commitTurn(id, { records: [record], countTurn: true, releaseLease: lease.owner }),
        'SESSION_NOT_FOUND',
      );
      await expectCode(storage.putNode({ id, parentId: mine.rootId, label: 'x' }), 'SESSION_NOT_FOUND');
      await expectCode(storage.putNode({ id: myChildId, parentId: id, label: 'x' }), 'SESSION_NOT_FOUND');
      await storage.deleteSubtree(id);
      await expectCode(storage.removeNode(id), 'INVALID_OPERATION');
      await expectCode(storage.commitIntegration(id, 'x', []), 'SESSION_NOT_FOUND');
      await expectCode(
        storage.commitIntegration(mine.rootId, 'x', [{ sessionId: id, content: 'leak' }]),
        'SESSION_NOT_FOUND',
      );
      await expectCode(sessions.createChild({ parentId: id, label: 'x' }), 'SESSION_NOT_FOUND');
      await expectCode(sessions.archive(id), 'SESSION_NOT_FOUND');
      await expectCode(sessions.updateMeta(id, { label: 'x' }), 'SESSION_NOT_FOUND');
      await expectCode(sessions.addRef(myChildId, id), 'SESSION_NOT_FOUND');
      await expectCode(sessions.addRef(id, myChildId), 'SESSION_NOT_FOUND');
      await expectCode(memory.writeMemory(id, 'x'), 'SESSION_NOT_FOUND');
      await expectCode(memory.writeScope(id, 'x'), 'SESSION_NOT_FOUND');
      await expectCode(memory.writeIndex(id, 'x'), 'SESSION_NOT_FOUND');
      await expectCode(memory.appendRecord(id, record), 'SESSION_NOT_FOUND');
      await expectCode(memory.replaceRecords(id, [record]), 'SESSION_NOT_FOUND');
    }
    // Same key, other space: an independent value.
    await storage.putGlobal('shared-key', 'mine');
    await memory.writeCore('shared-key', 'mine again');
    // A fork may not name another space's session as its provenance.
    const fork = await storage.createChild(mine.rootId, { label: 'fork', sourceSessionId: foreignChildId });
    expect(fork.sourceSessionId).toBeNull();
    // Transactions are scoped the same way.
    await expectCode(
      storage.transaction((tx) => tx.putMemory(foreignChildId, 'x')),
      'SESSION_NOT_FOUND',
    );

    expect(await snapshot(theirs.spaceId)).toEqual(before);
    expect(await theirs.memory.readCore('shared-key')).toBe('secret core');
    expect(await storage.getGlobal('shared-key')).toBe('mine again');
  });
});
