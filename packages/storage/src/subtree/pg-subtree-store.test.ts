import { createTestDatabase, expectCode, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countStatements } from '../__fixtures__/count-statements';
import { createSpaceFixture, type SpaceFixture } from '../__fixtures__/space-fixture';
import { PgSubtreeStore } from './pg-subtree-store';
import type { SubtreeDocument } from './subtree-document';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.drop();
});

/** Rows of the space's four session tables, for "nothing was written" checks. */
async function rowCounts(spaceId: string): Promise<Record<string, number>> {
  const { rows } = await database.pool.query<Record<string, number>>(
    `SELECT (SELECT count(*)::int FROM sessions WHERE space_id = $1) AS sessions,
            (SELECT count(*)::int FROM records WHERE space_id = $1) AS records,
            (SELECT count(*)::int FROM session_data WHERE space_id = $1) AS slots,
            (SELECT count(*)::int FROM session_refs WHERE space_id = $1) AS refs`,
    [spaceId],
  );
  return rows[0]!;
}

/**
 * A branch under the root: `research` (prompt, memory, insight, records with a tool call) with
 * children `a` (archived) and `b` (forked from `a`, refs `a`), and `a1` under `a`; plus a ref from
 * `b` to `other`, a sibling of `research` that the export leaves out.
 */
async function seedBranch(space: SpaceFixture) {
  const { sessions: tree, storage } = space;
  const research = await tree.createChild({
    parentId: space.rootId,
    label: 'Research',
    scope: 'papers',
    tags: ['x', 'y'],
    metadata: { color: 'blue', n: 1 },
    systemPrompt: 'You research.',
  });
  const other = await tree.createChild({ parentId: space.rootId, label: 'Other' });
  const a = await tree.createChild({ parentId: research.id, label: 'A' });
  const b = await tree.createChild({ parentId: research.id, label: 'B', sourceSessionId: a.id });
  const a1 = await tree.createChild({ parentId: a.id, label: 'A1' });
  await storage.appendRecord(research.id, {
    role: 'user',
    content: 'hello',
    timestamp: '2026-01-02T03:04:05.678Z',
  });
  await storage.appendRecord(research.id, {
    role: 'assistant',
    content: '',
    toolCalls: [{ id: 'call_1', name: 'search', input: { q: 'stello' } }],
    timestamp: '2026-01-02T03:04:06.000Z',
  });
  await storage.appendRecord(research.id, {
    role: 'tool',
    content: '{"hits":3}',
    toolCallId: 'call_1',
    metadata: { ms: 12 },
    timestamp: '2026-01-02T03:04:07.000Z',
  });
  await storage.appendRecord(a1.id, { role: 'user', content: 'deep', timestamp: '2026-01-03T00:00:00.000Z' });
  await storage.putMemory(research.id, 'L2 memory');
  await storage.putInsight(research.id, 'an insight');
  await tree.addRef(b.id, a.id);
  await tree.addRef(b.id, other.id);
  await tree.archive(a.id);
  return { research, other, a, b, a1 };
}

describe('PgSubtreeStore', () => {
  describe('exportSubtree', () => {
    it('writes the branch with relative ids, slots, internal refs and records, in one statement', async () => {
      const space = await createSpaceFixture(database.pool, 'export');
      const { research } = await seedBranch(space);
      const store = new PgSubtreeStore(database.pool, space.spaceId);
      const counter = countStatements(database.pool);
      let doc: SubtreeDocument;
      try {
        doc = await store.exportSubtree(research.id);
        expect(counter.count).toBe(1);
      } finally {
        counter.stop();
      }
      expect(doc.format).toBe('stello.subtree');
      expect(doc.version).toBe(1);
      expect(doc.sessions.map((s) => [s.id, s.parentId, s.label, s.index, s.status])).toEqual([
        ['s0', null, 'Research', 0, 'active'],
        ['s1', 's0', 'A', 0, 'archived'],
        ['s2', 's0', 'B', 1, 'active'],
        ['s3', 's1', 'A1', 0, 'active'],
      ]);
      const [root, a, b, a1] = doc.sessions;
      expect(root).toMatchObject({
        scope: 'papers',
        tags: ['x', 'y'],
        metadata: { color: 'blue', n: 1 },
        nextChildIndex: 2,
        slots: { insight: 'an insight', memory: 'L2 memory', system_prompt: 'You research.' },
        refs: [],
      });
      expect(root!.records).toEqual([
        { role: 'user', content: 'hello', timestamp: '2026-01-02T03:04:05.678Z' },
        {
          role: 'assistant',
          content: '',
          toolCalls: [{ id: 'call_1', name: 'search', input: { q: 'stello' } }],
          timestamp: '2026-01-02T03:04:06.000Z',
        },
        {
          role: 'tool',
          content: '{"hits":3}',
          toolCallId: 'call_1',
          metadata: { ms: 12 },
          timestamp: '2026-01-02T03:04:07.000Z',
        },
      ]);
      // The ref to `other` (outside the branch) is dropped; the fork's provenance is kept.
      expect(b).toMatchObject({ refs: ['s1'], sourceSessionId: 's1' });
      expect(a!.slots).toEqual({ system_prompt: 'You research.' });
      expect(a1!.records).toEqual([{ role: 'user', content: 'deep', timestamp: '2026-01-03T00:00:00.000Z' }]);
    });

    it('exports the whole tree from the root when no session is given', async () => {
      const space = await createSpaceFixture(database.pool, 'whole');
      await seedBranch(space);
      const doc = await new PgSubtreeStore(database.pool, space.spaceId).exportSubtree();
      expect(doc.sessions).toHaveLength(6);
      expect(doc.sessions[0]).toMatchObject({ id: 's0', parentId: null, label: 'whole' });
      // Inside the whole tree the ref to `other` is internal, so it is kept.
      expect(doc.sessions.find((s) => s.label === 'B')!.refs).toHaveLength(2);
    });

    it('refuses an unknown session and a session of another space', async () => {
      const space = await createSpaceFixture(database.pool, 'missing');
      const elsewhere = await createSpaceFixture(database.pool, 'elsewhere');
      const store = new PgSubtreeStore(database.pool, space.spaceId);
      await expectCode(store.exportSubtree(crypto.randomUUID()), 'SESSION_NOT_FOUND');
      await expectCode(store.exportSubtree(elsewhere.rootId), 'SESSION_NOT_FOUND');
      await expectCode(store.exportSubtree('not-a-uuid'), 'SESSION_NOT_FOUND');
    });

    it('refuses a subtree over a bound with SUBTREE_TOO_LARGE and its totals', async () => {
      const space = await createSpaceFixture(database.pool, 'bounded export');
      const { research } = await seedBranch(space);
      const sessions = new PgSubtreeStore(database.pool, space.spaceId, { maxSessions: 3 });
      await expect(sessions.exportSubtree(research.id)).rejects.toMatchObject({
        code: 'SUBTREE_TOO_LARGE',
        details: { limit: 'maxSessions', max: 3, actual: 4 },
      });
      const records = new PgSubtreeStore(database.pool, space.spaceId, { maxRecords: 3 });
      await expect(records.exportSubtree(research.id)).rejects.toMatchObject({
        details: { limit: 'maxRecords', max: 3, actual: 4 },
      });
      const bytes = new PgSubtreeStore(database.pool, space.spaceId, { maxBytes: 10 });
      await expectCode(bytes.exportSubtree(research.id), 'SUBTREE_TOO_LARGE');
    });
  });

  describe('importSubtree', () => {
    it('round-trips into another space: new ids, same shape and contents, and exports identically', async () => {
      const source = await createSpaceFixture(database.pool, 'source');
      const { research } = await seedBranch(source);
      const doc = await new PgSubtreeStore(database.pool, source.spaceId).exportSubtree(research.id);

      const target = await createSpaceFixture(database.pool, 'target');
      const existing = await target.sessions.createChild({ parentId: target.rootId, label: 'Existing' });
      const store = new PgSubtreeStore(database.pool, target.spaceId);
      const counter = countStatements(database.pool);
      let result: Awaited<ReturnType<PgSubtreeStore['importSubtree']>>;
      try {
        result = await store.importSubtree(doc);
        expect(counter.count).toBe(1);
      } finally {
        counter.stop();
      }
      expect(result.parentId).toBe(target.rootId);
      expect(result.sessions).toBe(4);
      expect(result.records).toBe(4);
      expect(Object.keys(result.idMap)).toEqual(['s0', 's1', 's2', 's3']);
      expect(result.rootId).toBe(result.idMap.s0);
      expect(result.idMap.s0).not.toBe(research.id);

      // Attached as the root's next child, one level deeper than in the source for its children.
      const copy = await target.sessions.getInfo(result.rootId);
      expect(copy).toMatchObject({
        parentId: target.rootId,
        depth: 1,
        index: existing.index + 1,
        label: 'Research',
      });
      const a1 = await target.sessions.getInfo(result.idMap.s3!);
      expect(a1).toMatchObject({ parentId: result.idMap.s1, depth: 3 });
      expect(await target.storage.listRecords(result.rootId)).toHaveLength(3);
      expect(await target.storage.getMemory(result.rootId)).toBe('L2 memory');

      expect(await store.exportSubtree(result.rootId)).toEqual(doc);
      // Importing the same document again makes a second, independent copy.
      const again = await store.importSubtree(doc, existing.id);
      expect(again.parentId).toBe(existing.id);
      expect(await store.exportSubtree(again.rootId)).toEqual(doc);
      // A fork on an imported session takes the next free index.
      const fork = await target.sessions.createChild({ parentId: result.rootId, label: 'C' });
      expect(fork.index).toBe(2);
    });

    it('writes nothing when the parent is archived, unknown or in another space', async () => {
      const space = await createSpaceFixture(database.pool, 'bad parent');
      const elsewhere = await createSpaceFixture(database.pool, 'bad parent elsewhere');
      const { research, a } = await seedBranch(space);
      const store = new PgSubtreeStore(database.pool, space.spaceId);
      const doc = await store.exportSubtree(research.id);
      const before = await rowCounts(space.spaceId);
      await expectCode(store.importSubtree(doc, a.id), 'SESSION_ARCHIVED');
      await expectCode(store.importSubtree(doc, crypto.randomUUID()), 'SESSION_NOT_FOUND');
      await expectCode(store.importSubtree(doc, elsewhere.rootId), 'SESSION_NOT_FOUND');
      await expectCode(store.importSubtree(doc, 'nope'), 'SESSION_NOT_FOUND');
      expect(await rowCounts(space.spaceId)).toEqual(before);
    });

    it('refuses a document over a bound before any write', async () => {
      const space = await createSpaceFixture(database.pool, 'bounded import');
      const { research } = await seedBranch(space);
      const doc = await new PgSubtreeStore(database.pool, space.spaceId).exportSubtree(research.id);
      const before = await rowCounts(space.spaceId);
      const cases = [
        [{ maxSessions: 3 }, 'maxSessions'],
        [{ maxRecords: 3 }, 'maxRecords'],
        [{ maxBytes: 100 }, 'maxBytes'],
      ] as const;
      for (const [limits, limit] of cases) {
        const counter = countStatements(database.pool);
        try {
          await expect(
            new PgSubtreeStore(database.pool, space.spaceId, limits).importSubtree(doc),
          ).rejects.toMatchObject({ code: 'SUBTREE_TOO_LARGE', details: { limit } });
          expect(counter.count).toBe(0);
        } finally {
          counter.stop();
        }
      }
      expect(await rowCounts(space.spaceId)).toEqual(before);
    });

    it('refuses malformed documents with INVALID_ARGUMENT naming the field, writing nothing', async () => {
      const space = await createSpaceFixture(database.pool, 'malformed');
      const { research } = await seedBranch(space);
      const store = new PgSubtreeStore(database.pool, space.spaceId);
      const doc = await store.exportSubtree(research.id);
      const before = await rowCounts(space.spaceId);
      const edit = (change: (d: SubtreeDocument) => void): unknown => {
        const copy = structuredClone(doc);
        change(copy);
        return copy;
      };
      const cases: [unknown, string][] = [
        [null, 'document'],
        [{ ...doc, format: 'other' }, 'document.format'],
        [{ ...doc, version: 2 }, 'document.version'],
        [{ ...doc, sessions: [] }, 'document.sessions'],
        [
          edit((d) => {
            d.sessions[1]!.label = '  ';
          }),
          'document.sessions[1].label',
        ],
        [
          edit((d) => {
            d.sessions[0]!.records[0]!.role = 'robot' as never;
          }),
          'document.sessions[0].records[0].role',
        ],
        [
          edit((d) => {
            d.sessions[0]!.records[0]!.content = 'a\u0000b';
          }),
          'document.sessions[0].records[0].content',
        ],
        [
          edit((d) => {
            d.sessions[0]!.records[0]!.timestamp = 'yesterday';
          }),
          'document.sessions[0].records[0].timestamp',
        ],
        [
          edit((d) => {
            (d.sessions[0]!.slots as Record<string, string>).synthesis = 'x';
          }),
          'document.sessions[0].slots',
        ],
        [
          edit((d) => {
            (d.sessions[0] as unknown as Record<string, unknown>).extra = 1;
          }),
          'document.sessions[0]',
        ],
        [
          edit((d) => {
            d.sessions[0]!.parentId = 's1';
          }),
          'document.sessions[0].parentId',
        ],
        [
          edit((d) => {
            d.sessions[2]!.parentId = null;
          }),
          'document.sessions[2].parentId',
        ],
        [
          edit((d) => {
            d.sessions[1]!.parentId = 's3';
          }),
          'document.sessions[1].parentId',
        ],
        [
          edit((d) => {
            d.sessions[2]!.id = 's1';
          }),
          'document.sessions[2].id',
        ],
        [
          edit((d) => {
            d.sessions[2]!.index = 0;
          }),
          'document.sessions[2].index',
        ],
        [
          edit((d) => {
            d.sessions[0]!.nextChildIndex = 1;
          }),
          'document.sessions[0].nextChildIndex',
        ],
        [
          edit((d) => {
            d.sessions[2]!.refs = ['s9'];
          }),
          'document.sessions[2].refs[0]',
        ],
        [
          edit((d) => {
            d.sessions[3]!.refs = ['s0'];
          }),
          'document.sessions[3].refs[0]',
        ],
        [
          edit((d) => {
            d.sessions[2]!.sourceSessionId = 'zz';
          }),
          'document.sessions[2].sourceSessionId',
        ],
        [
          edit((d) => {
            d.sessions[0]!.metadata = { bad: 'a\u0000' };
          }),
          'document.sessions',
        ],
      ];
      for (const [value, field] of cases) {
        const failure = await store.importSubtree(value).then(
          () => null,
          (error: unknown) => error,
        );
        expect(failure, field).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field } });
      }
      expect(await rowCounts(space.spaceId)).toEqual(before);
    });
  });

  describe('archiveSubtree', () => {
    it('archives the session and all its descendants in one statement', async () => {
      const space = await createSpaceFixture(database.pool, 'archive');
      const { research, other, a, b, a1 } = await seedBranch(space);
      const store = new PgSubtreeStore(database.pool, space.spaceId);
      const before = await space.sessions.get(a.id);
      const counter = countStatements(database.pool);
      try {
        const result = await store.archiveSubtree(research.id);
        expect(counter.count).toBe(1);
        // `a` was archived already: not archived again.
        expect(result).toEqual({ sessionId: research.id, archivedIds: [research.id, b.id, a1.id] });
      } finally {
        counter.stop();
      }
      for (const id of [research.id, a.id, b.id, a1.id]) {
        expect((await space.sessions.get(id))?.status).toBe('archived');
      }
      expect((await space.sessions.get(a.id))?.updatedAt).toBe(before?.updatedAt);
      expect((await space.sessions.get(other.id))?.status).toBe('active');
      expect((await space.sessions.get(space.rootId))?.status).toBe('active');
      expect(await store.archiveSubtree(research.id)).toEqual({ sessionId: research.id, archivedIds: [] });
    });

    it('refuses the main session with INVALID_OPERATION and unknown ids with SESSION_NOT_FOUND', async () => {
      const space = await createSpaceFixture(database.pool, 'archive main');
      const elsewhere = await createSpaceFixture(database.pool, 'archive elsewhere');
      const store = new PgSubtreeStore(database.pool, space.spaceId);
      await expectCode(store.archiveSubtree(space.rootId), 'INVALID_OPERATION');
      expect((await space.sessions.get(space.rootId))?.status).toBe('active');
      await expectCode(store.archiveSubtree(crypto.randomUUID()), 'SESSION_NOT_FOUND');
      await expectCode(store.archiveSubtree(elsewhere.rootId), 'SESSION_NOT_FOUND');
      expect((await elsewhere.sessions.get(elsewhere.rootId))?.status).toBe('active');
    });
  });

  it('refuses bad limits', () => {
    expect(() => new PgSubtreeStore(database.pool, crypto.randomUUID(), { maxSessions: 0 })).toThrow(
      /maxSessions must be a positive integer/,
    );
  });
});
