import { listSessionPage, type SessionListOptions, type SessionTree, type TurnRecord } from '@stello-ai/core';
import { describe, expect, it } from 'vitest';
import { type ContractFactory, expectCode } from './types';
import { useFixture } from './use-fixture';

const GHOST_ID = '00000000-0000-4000-8000-000000000000';

function record(content: string): TurnRecord {
  return { role: 'user', content, timestamp: new Date().toISOString() };
}

/** Every page of a listing under `options`, walked with the cursors; ids in listing order. */
async function walk(
  sessions: SessionTree,
  options: Omit<SessionListOptions, 'after'>,
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let after: string | null = null;
  let pages = 0;
  do {
    const page = await listSessionPage(sessions, { ...options, after });
    ids.push(...page.sessions.map((session) => session.id));
    after = page.nextCursor;
    pages += 1;
  } while (after !== null && pages < 100);
  return { ids, pages };
}

/**
 * Paging contracts: `SessionTree.listPage` (keyset pages by depth, index, id, with filters) and
 * `MemoryEngine.readRecordPage` backwards (`before`) with record ids. Run against every backend.
 */
export function describePagingContract(name: string, factory: ContractFactory): void {
  describe(`Paging contract: ${name}`, () => {
    const fx = useFixture(factory);

    /** Root → A (→ A1, A2), B, C. */
    async function buildTree() {
      const { sessions, rootId } = fx.current;
      const a = await sessions.createChild({ parentId: rootId, label: 'A', tags: ['x', 'y'] });
      const b = await sessions.createChild({ parentId: rootId, label: 'B', metadata: { team: 'red', n: 1 } });
      const c = await sessions.createChild({ parentId: rootId, label: 'C', tags: ['x'] });
      const a1 = await sessions.createChild({ parentId: a.id, label: 'A1', metadata: { team: 'blue' } });
      const a2 = await sessions.createChild({
        parentId: a.id,
        label: 'A2',
        metadata: { team: 'red', n: '1' },
      });
      return { rootId, a, b, c, a1, a2 };
    }

    it('pages every session once, by depth then index, with a null cursor on the last page', async () => {
      const { sessions } = fx.current;
      const { rootId, a, b, c, a1, a2 } = await buildTree();
      const expected = [rootId, a.id, b.id, c.id, a1.id, a2.id];
      expect((await sessions.listInfo()).map((info) => info.id)).toEqual(expected);
      for (const limit of [1, 2, 4, 6, 50]) {
        const { ids, pages } = await walk(sessions, { limit });
        expect(ids).toEqual(expected);
        expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)));
      }
      const page = await listSessionPage(sessions, { limit: 2 });
      expect(page.sessions[0]).toMatchObject({
        id: rootId,
        parentId: null,
        children: [a.id, b.id, c.id],
        depth: 0,
      });
      expect(page.sessions[1]).toMatchObject({ id: a.id, children: [a1.id, a2.id], tags: ['x', 'y'] });
    });

    it('filters by status, tags, label prefix and metadata, all together', async () => {
      const { sessions } = fx.current;
      const { rootId, a, b, c, a1, a2 } = await buildTree();
      await sessions.archive(c.id);
      const ids = async (options: Omit<SessionListOptions, 'limit' | 'after'>) =>
        (await walk(sessions, { ...options, limit: 2 })).ids;
      expect(await ids({ status: 'archived' })).toEqual([c.id]);
      expect(await ids({ status: 'active' })).toEqual([rootId, a.id, b.id, a1.id, a2.id]);
      expect(await ids({ tags: ['x'] })).toEqual([a.id, c.id]);
      expect(await ids({ tags: ['x', 'y'] })).toEqual([a.id]);
      expect(await ids({ tags: [] })).toHaveLength(6);
      expect(await ids({ labelPrefix: 'A' })).toEqual([a.id, a1.id, a2.id]);
      expect(await ids({ labelPrefix: 'A1' })).toEqual([a1.id]);
      expect(await ids({ metadata: { team: ['red'] } })).toEqual([b.id, a2.id]);
      expect(await ids({ metadata: { team: ['red', 'blue'] } })).toEqual([b.id, a1.id, a2.id]);
      // JSON equality: the number 1 and the string "1" are different values.
      expect(await ids({ metadata: { n: [1] } })).toEqual([b.id]);
      expect(await ids({ metadata: { n: ['1'] } })).toEqual([a2.id]);
      expect(await ids({ metadata: { team: ['red'], n: [1] } })).toEqual([b.id]);
      expect(await ids({ metadata: { missing: [null] } })).toEqual([]);
      expect(await ids({ status: 'active', labelPrefix: 'A', metadata: { team: ['red'] } })).toEqual([a2.id]);
    });

    it('takes a label prefix literally: LIKE wildcards and backslashes match only themselves', async () => {
      const { sessions, rootId } = fx.current;
      const percent = await sessions.createChild({ parentId: rootId, label: '100% done' });
      const underscore = await sessions.createChild({ parentId: rootId, label: 'a_b' });
      const backslash = await sessions.createChild({ parentId: rootId, label: 'C:\\dir' });
      await sessions.createChild({ parentId: rootId, label: '1000 done' });
      await sessions.createChild({ parentId: rootId, label: 'axb' });
      await sessions.createChild({ parentId: rootId, label: 'C:dir' });
      const ids = async (labelPrefix: string) => (await walk(sessions, { limit: 10, labelPrefix })).ids;
      expect(await ids('100%')).toEqual([percent.id]);
      expect(await ids('a_')).toEqual([underscore.id]);
      expect(await ids('C:\\')).toEqual([backslash.id]);
      expect(await ids('%')).toEqual([]);
      expect(await ids('_')).toEqual([]);
    });

    it('neither skips nor repeats a session when children are forked between pages', async () => {
      const { sessions, rootId } = fx.current;
      const { a, b } = await buildTree();
      const before = (await sessions.listInfo()).map((info) => info.id);
      const seen: string[] = [];
      let after: string | null = null;
      let forks = 0;
      do {
        const page = await listSessionPage(sessions, { limit: 2, after });
        seen.push(...page.sessions.map((session) => session.id));
        after = page.nextCursor;
        // Forks land before, at and after the cursor's position in the order.
        for (const parentId of [rootId, a.id, b.id]) {
          await sessions.createChild({ parentId, label: `fork ${forks}` });
          forks += 1;
        }
      } while (after !== null && forks < 90);
      expect(new Set(seen).size).toBe(seen.length);
      for (const id of before) expect(seen).toContain(id);
    });

    it('refuses a malformed cursor or limit with INVALID_ARGUMENT', async () => {
      const { sessions } = fx.current;
      const { nextCursor } = await listSessionPage(sessions, { limit: 1, after: null });
      expect(nextCursor).toBeNull();
      await buildTree();
      const first = await listSessionPage(sessions, { limit: 1 });
      expect(typeof first.nextCursor).toBe('string');
      const foreign = Buffer.from('r12', 'utf8').toString('base64url');
      const tampered = [`s1:1:0:${GHOST_ID}x`, `s1:-1:0:${GHOST_ID}`, `s2:1:0:${GHOST_ID}`].map((text) =>
        Buffer.from(text, 'utf8').toString('base64url'),
      );
      for (const after of ['garbage!', 'bm90IGEgY3Vyc29y', foreign, GHOST_ID, ...tampered]) {
        await expectCode(listSessionPage(sessions, { limit: 2, after }), 'INVALID_ARGUMENT');
      }
      await expectCode(listSessionPage(sessions, { limit: 0 }), 'INVALID_ARGUMENT');
    });

    it('lists only the sessions of its own space', async () => {
      const { sessions, otherSpace, rootId } = fx.current;
      await otherSpace.sessions.createChild({ parentId: otherSpace.rootId, label: 'Foreign' });
      expect((await walk(sessions, { limit: 10 })).ids).toEqual([rootId]);
      expect((await walk(sessions, { limit: 10, labelPrefix: 'Foreign' })).ids).toEqual([]);
    });

    it('gives each paged record a string id that works as an after and a before cursor', async () => {
      const { memory, rootId } = fx.current;
      for (let i = 1; i <= 5; i += 1) await memory.appendRecord(rootId, record(`r${i}`));
      const all = await memory.readRecordPage(rootId, { limit: 10 });
      const ids = all.records.map((r) => r.id);
      for (const id of ids) expect(id).toMatch(/^\d+$/);
      expect(new Set(ids).size).toBe(5);
      const third = ids[2] as string;
      const after = await memory.readRecordPage(rootId, { limit: 10, after: third });
      expect(after.records.map((r) => r.content)).toEqual(['r4', 'r5']);
      const before = await memory.readRecordPage(rootId, { limit: 10, before: third });
      expect(before.records.map((r) => r.content)).toEqual(['r1', 'r2']);
      expect(before.prevCursor).toBeNull();
    });

    it('pages backwards with before: the newest older records, oldest first, then prevCursor', async () => {
      const { memory, rootId } = fx.current;
      for (let i = 1; i <= 5; i += 1) await memory.appendRecord(rootId, record(`r${i}`));
      const all = await memory.readRecordPage(rootId, { limit: 10 });
      const last = all.records.at(-1)?.id as string;
      const first = await memory.readRecordPage(rootId, { limit: 2, before: last });
      expect(first.records.map((r) => r.content)).toEqual(['r3', 'r4']);
      expect(first.nextCursor).toBeNull();
      expect(typeof first.prevCursor).toBe('string');
      await memory.appendRecord(rootId, record('r6'));
      const second = await memory.readRecordPage(rootId, { limit: 2, before: first.prevCursor });
      expect(second.records.map((r) => r.content)).toEqual(['r1', 'r2']);
      expect(second.prevCursor).toBeNull();
      const exact = await memory.readRecordPage(rootId, { limit: 4, before: last });
      expect(exact.records.map((r) => r.content)).toEqual(['r1', 'r2', 'r3', 'r4']);
      expect(exact.prevCursor).toBeNull();
      expect(await memory.readRecordPage(GHOST_ID, { limit: 2, before: last })).toMatchObject({
        records: [],
        prevCursor: null,
      });
    });

    it('refuses after with before, and a malformed before, with INVALID_ARGUMENT', async () => {
      const { memory, rootId } = fx.current;
      await memory.appendRecord(rootId, record('a'));
      await memory.appendRecord(rootId, record('b'));
      const page = await memory.readRecordPage(rootId, { limit: 1 });
      const cursor = page.nextCursor as string;
      await expectCode(
        memory.readRecordPage(rootId, { limit: 1, after: cursor, before: cursor }),
        'INVALID_ARGUMENT',
      );
      for (const before of ['not a cursor', '-1', '1.5', Buffer.from('x9', 'utf8').toString('base64url')]) {
        await expectCode(memory.readRecordPage(rootId, { limit: 1, before }), 'INVALID_ARGUMENT');
      }
    });
  });
}
