import { describe, expect, it } from 'vitest';
import { isCodedError } from '../errors';
import type { SessionMeta } from '../types';
import { InMemoryStorageAdapter } from './in-memory-storage';
import { InMemoryStore } from './in-memory-store';

async function setup() {
  const storage = new InMemoryStorageAdapter();
  const at = new Date().toISOString();
  const root: SessionMeta = {
    id: 'root-1',
    label: 'Space',
    role: 'main',
    status: 'active',
    tags: [],
    metadata: {},
    createdAt: at,
    updatedAt: at,
  };
  await storage.putSession(root);
  const child = await storage.createChild(root.id, { label: 'Child' });
  return { storage, rootId: root.id, childId: child.id };
}

async function codeOf(promise: Promise<unknown>): Promise<string | null> {
  return promise.then(
    () => null,
    (error: unknown) => (isCodedError(error) ? error.code : String(error)),
  );
}

describe('InMemoryStorageAdapter', () => {
  it('creates the root through putSession only once', async () => {
    const { storage, rootId } = await setup();
    expect(await storage.getSessionRow(rootId)).toMatchObject({ role: 'main', depth: 0, parentId: null });
    const second: SessionMeta = { ...(await storage.getSession(rootId))!, id: 'root-2' };
    expect(await codeOf(storage.putSession(second))).toBe('SESSION_NOT_FOUND');
    expect(await storage.getSession('root-2')).toBeNull();
    // A standard session of a fresh id is created under the root (the original fork() relies on it).
    await storage.putSession({ ...second, id: 'std', role: 'standard' });
    expect(await storage.getSessionRow('std')).toMatchObject({
      role: 'standard',
      parentId: rootId,
      depth: 1,
    });
  });

  it('returns copies that callers cannot use to change the store', async () => {
    const { storage, childId } = await setup();
    await storage.appendRecord(childId, { role: 'user', content: 'original', metadata: { a: 1 } });
    const [record] = await storage.listRecords(childId);
    record!.content = 'changed';
    record!.metadata!.a = 2;
    const meta = (await storage.getSession(childId))!;
    meta.tags.push('sneaky');
    expect((await storage.listRecords(childId))[0]).toMatchObject({
      content: 'original',
      metadata: { a: 1 },
    });
    expect((await storage.getSession(childId))!.tags).toEqual([]);
  });

  it('stamps records without a timestamp', async () => {
    const { storage, childId } = await setup();
    await storage.appendRecord(childId, { role: 'user', content: 'x' });
    expect((await storage.listRecords(childId))[0]!.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  describe('transaction', () => {
    it('makes every write visible when the function resolves', async () => {
      const { storage, childId } = await setup();
      const value = await storage.transaction(async (tx) => {
        await tx.appendRecord(childId, { role: 'user', content: 'in tx' });
        await tx.putMemory(childId, 'memory in tx');
        expect(await tx.getMemory(childId)).toBe('memory in tx');
        // Outside readers see committed data only.
        expect(await storage.getMemory(childId)).toBeNull();
        return 42;
      });
      expect(value).toBe(42);
      expect(await storage.getMemory(childId)).toBe('memory in tx');
      expect(await storage.listRecords(childId)).toHaveLength(1);
    });

    it('rolls every write back when the function throws', async () => {
      const { storage, rootId, childId } = await setup();
      await storage.putMemory(childId, 'before');
      const failure = storage.transaction(async (tx) => {
        await tx.putMemory(childId, 'during');
        await tx.appendRecord(childId, { role: 'user', content: 'lost' });
        await tx.createChild(rootId, { label: 'lost child' });
        await tx.putGlobal('k', 'lost');
        await tx.clearInsight(childId);
        throw new Error('boom');
      });
      await expect(failure).rejects.toThrow('boom');
      expect(await storage.getMemory(childId)).toBe('before');
      expect(await storage.listRecords(childId)).toEqual([]);
      expect(await storage.getChildren(rootId)).toHaveLength(1);
      expect(await storage.getGlobal('k')).toBeNull();
      // The index handed out inside the failed transaction is free again.
      expect((await storage.createChild(rootId, { label: 'next' })).index).toBe(1);
    });

    it('rolls back when a write inside fails with a coded error', async () => {
      const { storage, childId } = await setup();
      await expect(
        storage.transaction(async (tx) => {
          await tx.putMemory(childId, 'half');
          await tx.putMemory('missing', 'x');
        }),
      ).rejects.toSatisfy((error: unknown) => isCodedError(error, 'SESSION_NOT_FOUND'));
      expect(await storage.getMemory(childId)).toBeNull();
    });

    it('makes outside writes wait for the transaction instead of losing them', async () => {
      const { storage, childId } = await setup();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const tx = storage.transaction(async (inner) => {
        await inner.appendRecord(childId, { role: 'user', content: 'from tx' });
        await gate;
      });
      const outside = storage.appendRecord(childId, { role: 'user', content: 'from outside' });
      await Promise.resolve();
      expect(await storage.listRecords(childId)).toEqual([]);
      release();
      await Promise.all([tx, outside]);
      expect((await storage.listRecords(childId)).map((r) => r.content)).toEqual(['from tx', 'from outside']);
    });

    it('treats a nested transaction as a savepoint', async () => {
      const { storage, childId } = await setup();
      await storage.transaction(async (tx) => {
        await tx.putMemory(childId, 'outer');
        await expect(
          tx.transaction(async (inner) => {
            await inner.putInsight(childId, 'inner');
            throw new Error('inner fails');
          }),
        ).rejects.toThrow('inner fails');
        await tx.transaction(async (inner) => {
          await inner.putSystemPrompt(childId, 'inner ok');
        });
      });
      expect(await storage.getMemory(childId)).toBe('outer');
      expect(await storage.getInsight(childId)).toBeNull();
      expect(await storage.getSystemPrompt(childId)).toBe('inner ok');
    });

    it('refuses writes through a transaction that has ended', async () => {
      const { storage, childId } = await setup();
      let leaked: InMemoryStorageAdapter | undefined;
      await storage.transaction(async (tx) => {
        leaked = tx as InMemoryStorageAdapter;
      });
      expect(await codeOf(leaked!.putMemory(childId, 'late'))).toBe('INVALID_ARGUMENT');
      expect(await storage.getMemory(childId)).toBeNull();
    });
  });
});

describe('InMemoryStore', () => {
  it('numbers records with strictly increasing sequence numbers across sessions', async () => {
    const store = new InMemoryStore();
    const { row: root } = await store.ensureRoot({ label: 'root' });
    const child = await store.createChild(root.id, { label: 'c' });
    await store.appendRecords(root.id, [{ role: 'user', content: 'r1' }]);
    await store.appendRecords(child.id, [{ role: 'user', content: 'c1' }]);
    await store.appendRecords(root.id, [{ role: 'user', content: 'r2' }]);
    const first = store.recordPage(root.id, { limit: 1 });
    expect(first.records.map((r) => r.content)).toEqual(['r1']);
    expect(first.hasMore).toBe(true);
    const second = store.recordPage(root.id, { limit: 1, afterSeq: first.lastSeq });
    expect(second.records.map((r) => r.content)).toEqual(['r2']);
    expect(second.lastSeq!).toBeGreaterThan(first.lastSeq! + 1);
    expect(second.hasMore).toBe(false);
  });

  it('moves a subtree and recomputes its depth', async () => {
    const store = new InMemoryStore();
    const { row: root } = await store.ensureRoot({ label: 'root' });
    const a = await store.createChild(root.id, { label: 'a' });
    const b = await store.createChild(root.id, { label: 'b' });
    const a1 = await store.createChild(a.id, { label: 'a1' });
    await store.moveSession(a.id, b.id, 'a moved');
    expect(store.getRow(a.id)).toMatchObject({ parentId: b.id, depth: 2, index: 0, label: 'a moved' });
    expect(store.getRow(a1.id)).toMatchObject({ depth: 3 });
    await expect(store.moveSession(b.id, a1.id, 'b')).rejects.toSatisfy((e: unknown) =>
      isCodedError(e, 'INVALID_ARGUMENT'),
    );
  });

  it('expires a turn lease by its clock, exactly at the expiry', async () => {
    let now = 1_000;
    const store = new InMemoryStore({ clock: () => now });
    const { row: root } = await store.ensureRoot({ label: 'root' });
    await store.leaseTurnContext(root.id, 10, { owner: 'a', ttlMs: 500 });
    now = 1_499;
    const busy = await store
      .leaseTurnContext(root.id, 10, { owner: 'b', ttlMs: 500 })
      .catch((e: unknown) => e);
    expect(busy).toMatchObject({ code: 'SESSION_BUSY', details: { sessionId: root.id, retryAfterMs: 1 } });
    now = 1_500;
    expect(await store.leaseTurnContext(root.id, 10, { owner: 'b', ttlMs: 500 })).not.toBeNull();
    // The clock reaches transactions too.
    await store.transaction(async (tx) => {
      now = 2_000;
      expect(await tx.renewTurnLease(root.id, 'b', 500)).toBe(true);
    });
    now = 2_499;
    expect(await codeOf(store.leaseTurnContext(root.id, 10, { owner: 'c', ttlMs: 1 }))).toBe('SESSION_BUSY');
  });
});
