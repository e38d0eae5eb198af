import { createTestDatabase, expectCode, type TestDatabase } from '@internal/testing';
import type { Message } from '@stello-ai/session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countStatements } from './__fixtures__/count-statements';
import { createSpaceFixture, type SpaceFixture } from './__fixtures__/space-fixture';
import { PgSessionStorage } from './pg-session-storage';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.drop();
});

/** Resolves once a statement touching the session's lease is waiting for a row lock (bounded). */
async function waitForLockWait(sessionId: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const { rows } = await database.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%turn_lease_owner%'`,
    );
    if (rows[0]!.n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no statement waited for the lock of session ${sessionId}`);
}

function turn(n: number): Message[] {
  return [
    { role: 'user', content: `question ${n}` },
    { role: 'assistant', content: `answer ${n}` },
  ];
}

async function leaseOf(sessionId: string): Promise<{ owner: string | null; expires: Date | null }> {
  const { rows } = await database.pool.query<{ owner: string | null; expires: Date | null }>(
    'SELECT turn_lease_owner AS owner, turn_lease_expires_at AS expires FROM sessions WHERE id = $1',
    [sessionId],
  );
  return rows[0]!;
}

async function recordCount(sessionId: string): Promise<number> {
  const { rows } = await database.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM records WHERE session_id = $1',
    [sessionId],
  );
  return rows[0]!.n;
}

describe('PgSessionStorage', () => {
  let space: SpaceFixture;

  beforeAll(async () => {
    space = await createSpaceFixture(database.pool, 'session storage');
  });

  describe('statement counts', () => {
    it('reads a turn context in one statement and commits a turn in one statement', async () => {
      const storage = new PgSessionStorage(database.pool, space.spaceId);
      const child = await storage.createChild(space.rootId, { label: 'counted', systemPrompt: 'sys' });
      await storage.putInsight(child.id, 'insight');
      await storage.commitTurn(child.id, { records: turn(0), countTurn: true });

      const counter = countStatements(database.pool);
      try {
        const context = await storage.loadTurnContext(child.id, { maxRecords: 10 });
        expect(counter.count).toBe(1);
        counter.reset();
        await storage.commitTurn(child.id, {
          records: [...turn(1), { role: 'tool', content: 'r', toolCallId: 't' }],
          consumeInsight: context!.insight,
          countTurn: true,
          expectedTurnCount: context!.turnCount,
        });
        expect(counter.count, counter.statements.join('\n')).toBe(1);
      } finally {
        counter.stop();
      }
      expect(await storage.getInsight(child.id)).toBeNull();
      expect((await storage.getSessionRow(child.id))!.turnCount).toBe(2);
    });

    it('writes a consolidated memory with its mark in one statement, and nothing to an archived session', async () => {
      const storage = new PgSessionStorage(database.pool, space.spaceId);
      const child = await storage.createChild(space.rootId, { label: 'consolidated' });
      const counter = countStatements(database.pool);
      try {
        await storage.putConsolidatedMemory(child.id, 'summary one', 6);
        expect(counter.count, counter.statements.join('\n')).toBe(1);
      } finally {
        counter.stop();
      }
      expect(await storage.getMemory(child.id)).toBe('summary one');
      expect(await storage.getConsolidatedTurnCount(child.id)).toBe(6);

      await space.sessions.archive(child.id);
      await expectCode(storage.putConsolidatedMemory(child.id, 'summary two', 12), 'SESSION_ARCHIVED');
      expect(await storage.getMemory(child.id)).toBe('summary one');
      expect(await storage.getConsolidatedTurnCount(child.id)).toBe(6);
      await expectCode(
        storage.putConsolidatedMemory('00000000-0000-4000-8000-000000000000', 'x', 1),
        'SESSION_NOT_FOUND',
      );
    });

    it('takes the turn lease with the read and releases it with the commit, one statement each', async () => {
      const storage = new PgSessionStorage(database.pool, space.spaceId);
      const child = await storage.createChild(space.rootId, { label: 'leased', systemPrompt: 'sys' });
      await storage.putInsight(child.id, 'insight');
      await storage.commitTurn(child.id, { records: turn(0), countTurn: true });
      const lease = { owner: 'instance-a:1', ttlMs: 60_000 };

      const counter = countStatements(database.pool);
      try {
        const context = await storage.loadTurnContext(child.id, { maxRecords: 10, lease });
        expect(counter.count, counter.statements.join('\n')).toBe(1);
        expect(context).toMatchObject({ systemPrompt: 'sys', insight: 'insight', turnCount: 1 });
        expect(context!.records.map((r) => r.content)).toEqual(['question 0', 'answer 0']);
        counter.reset();
        await storage.commitTurn(child.id, {
          records: turn(1),
          consumeInsight: context!.insight,
          countTurn: true,
          expectedTurnCount: context!.turnCount,
          releaseLease: lease.owner,
        });
        expect(counter.count, counter.statements.join('\n')).toBe(1);
      } finally {
        counter.stop();
      }
      expect(await leaseOf(child.id)).toEqual({ owner: null, expires: null });
    });

    it('answers a busy lease in one statement that reads no records', async () => {
      const storage = new PgSessionStorage(database.pool, space.spaceId);
      const child = await storage.createChild(space.rootId, { label: 'busy' });
      await storage.loadTurnContext(child.id, { maxRecords: 10, lease: { owner: 'a', ttlMs: 60_000 } });
      const counter = countStatements(database.pool);
      try {
        await expectCode(
          storage.loadTurnContext(child.id, { maxRecords: 10, lease: { owner: 'b', ttlMs: 60_000 } }),
          'SESSION_BUSY',
        );
        expect(counter.count).toBe(1);
      } finally {
        counter.stop();
      }
      expect(await leaseOf(child.id)).toMatchObject({ owner: 'a' });
    });

    it('forks in one statement', async () => {
      const storage = new PgSessionStorage(database.pool, space.spaceId);
      await storage.putSystemPrompt(space.rootId, 'inherited');
      const counter = countStatements(database.pool);
      try {
        const child = await storage.createChild(space.rootId, {
          label: 'fork',
          records: [{ role: 'user', content: 'seed' }],
        });
        expect(counter.count).toBe(1);
        expect(await storage.getSystemPrompt(child.id)).toBe('inherited');
      } finally {
        counter.stop();
      }
    });
  });

  describe('turn lease', () => {
    it('re-reads a context whose lease it took from a turn that committed while it waited', async () => {
      const storage = new PgSessionStorage(database.pool, space.spaceId);
      const child = await storage.createChild(space.rootId, { label: 'raced' });
      // A slow turn whose lease lapsed is committing at the very moment another turn starts.
      await storage.loadTurnContext(child.id, { maxRecords: 10, lease: { owner: 'slow', ttlMs: 1 } });
      await new Promise((resolve) => setTimeout(resolve, 25));
      const client = await database.pool.connect();
      try {
        await client.query('BEGIN');
        await new PgSessionStorage(client, space.spaceId).commitTurn(child.id, {
          records: turn(1),
          countTurn: true,
          expectedTurnCount: 0,
          releaseLease: 'slow',
        });
        // The committing transaction holds the row lock: the next turn's statement takes its
        // snapshot now, then waits for the lock.
        const next = storage.loadTurnContext(child.id, {
          maxRecords: 10,
          lease: { owner: 'next', ttlMs: 60_000 },
        });
        await waitForLockWait(child.id);
        await client.query('COMMIT');
        const context = await next;
        expect(context!.turnCount).toBe(1);
        expect(context!.records.map((r) => r.content)).toEqual(['question 1', 'answer 1']);
      } finally {
        client.release();
      }
      expect(await leaseOf(child.id)).toMatchObject({ owner: 'next' });
    });
  });

  describe('long histories', () => {
    it('returns the newest window of a 2,000-record history in order', async () => {
      const storage = new PgSessionStorage(database.pool, space.spaceId);
      const child = await storage.createChild(space.rootId, { label: 'long' });
      const records: Message[] = Array.from({ length: 2000 }, (_, i) => ({
        role: i % 2 === 0 ? 'user' : 'assistant',
        content: `m${i}`,
      }));
      // Records of one commit keep the array order (ids grow with the ordinality).
      await storage.commitTurn(child.id, { records: records.slice(0, 1000), countTurn: true });
      await storage.commitTurn(child.id, { records: records.slice(1000), countTurn: true });

      const counter = countStatements(database.pool);
      const context = await storage.loadTurnContext(child.id, { maxRecords: 50 });
      counter.stop();
      expect(counter.count).toBe(1);
      expect(context!.hasOlderRecords).toBe(true);
      expect(context!.records.map((r) => r.content)).toEqual(records.slice(1950).map((r) => r.content));

      const all = await storage.listRecords(child.id);
      expect(all.map((r) => r.content)).toEqual(records.map((r) => r.content));
      const exact = await storage.loadTurnContext(child.id, { maxRecords: 2000 });
      expect(exact!.hasOlderRecords).toBe(false);
      expect(exact!.records).toHaveLength(2000);
      const none = await storage.loadTurnContext(child.id, { maxRecords: 0 });
      expect(none!.records).toEqual([]);
      expect(none!.hasOlderRecords).toBe(true);
    });
  });

  describe('atomic writes', () => {
    it('writes nothing of a turn whose records the database refuses', async () => {
      const storage = new PgSessionStorage(database.pool, space.spaceId);
      const child = await storage.createChild(space.rootId, { label: 'refused' });
      await storage.putInsight(child.id, 'keep me');
      await storage.commitTurn(child.id, { records: turn(0), countTurn: true });
      // JavaScript accepts this date; PostgreSQL's timestamptz range does not, so the statement
      // fails after the counter update and the first inserts were planned.
      const outOfRange = '-100000-01-01T00:00:00.000Z';
      expect(Number.isNaN(Date.parse(outOfRange))).toBe(false);
      await expectCode(
        storage.commitTurn(child.id, {
          records: [
            { role: 'user', content: 'fine' },
            { role: 'assistant', content: 'fine too' },
            { role: 'assistant', content: 'bad', timestamp: outOfRange },
          ],
          consumeInsight: 'keep me',
          countTurn: true,
        }),
        'INVALID_ARGUMENT',
      );
      expect((await storage.listRecords(child.id)).map((r) => r.content)).toEqual(['question 0', 'answer 0']);
      expect(await storage.getInsight(child.id)).toBe('keep me');
      expect((await storage.getSessionRow(child.id))!.turnCount).toBe(1);
    });

    it('rolls back every write of a transaction that throws', async () => {
      const storage = new PgSessionStorage(database.pool, space.spaceId);
      const parent = await storage.createChild(space.rootId, { label: 'tx parent' });
      await expect(
        storage.transaction(async (tx) => {
          expect(tx).toBeInstanceOf(PgSessionStorage);
          await tx.commitTurn(parent.id, { records: turn(1), countTurn: true });
          const child = await tx.createChild(parent.id, { label: 'tx child' });
          await tx.putMemory(child.id, 'memory');
          // Visible inside the transaction, before the failure.
          expect(await tx.getSessionRow(child.id)).not.toBeNull();
          throw new Error('interrupted');
        }),
      ).rejects.toThrow('interrupted');
      expect(await storage.listRecords(parent.id)).toEqual([]);
      expect((await storage.getSessionRow(parent.id))!.turnCount).toBe(0);
      const { rows } = await database.pool.query('SELECT id FROM sessions WHERE parent_id = $1', [parent.id]);
      expect(rows).toEqual([]);
    });

    it('runs in a savepoint of the caller transaction when bound to a client', async () => {
      const client = await database.pool.connect();
      try {
        await client.query('BEGIN');
        const storage = new PgSessionStorage(client, space.spaceId);
        const child = await storage.createChild(space.rootId, { label: 'outer' });
        await expect(
          storage.transaction(async (tx) => {
            await tx.putMemory(child.id, 'inner');
            throw new Error('inner failure');
          }),
        ).rejects.toThrow('inner failure');
        await storage.transaction(async (tx) => tx.putInsight(child.id, 'kept'));
        await client.query('COMMIT');
        const reader = new PgSessionStorage(database.pool, space.spaceId);
        expect(await reader.getSessionRow(child.id)).not.toBeNull();
        expect(await reader.getMemory(child.id)).toBeNull();
        expect(await reader.getInsight(child.id)).toBe('kept');
      } finally {
        client.release();
      }
    });

    it('opens its own transaction on a client that has none', async () => {
      const client = await database.pool.connect();
      try {
        const storage = new PgSessionStorage(client, space.spaceId);
        const child = await storage.createChild(space.rootId, { label: 'plain client' });
        await expect(
          storage.transaction(async (tx) => {
            await tx.putMemory(child.id, 'lost');
            throw new Error('undo');
          }),
        ).rejects.toThrow('undo');
        await storage.transaction(async (tx) => tx.putMemory(child.id, 'saved'));
        expect(await new PgSessionStorage(database.pool, space.spaceId).getMemory(child.id)).toBe('saved');
      } finally {
        client.release();
      }
    });
  });

  describe('concurrency', () => {
    it('gives 100 concurrent forks under one parent the indexes 0..99', async () => {
      const storage = new PgSessionStorage(database.pool, space.spaceId);
      const parent = await storage.createChild(space.rootId, { label: 'busy parent' });
      const children = await Promise.all(
        Array.from({ length: 100 }, (_, i) => storage.createChild(parent.id, { label: `fork ${i}` })),
      );
      expect(children.map((c) => c.index).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 100 }, (_, i) => i),
      );
      expect(new Set(children.map((c) => c.depth))).toEqual(new Set([2]));
      const { rows } = await database.pool.query<{ id: string }>(
        'SELECT id FROM sessions WHERE parent_id = $1 ORDER BY "index"',
        [parent.id],
      );
      expect(rows.map((r) => r.id)).toEqual([...children].sort((a, b) => a.index - b.index).map((c) => c.id));
    });

    it('lets exactly one of two turns with the same expected count commit', async () => {
      const storage = new PgSessionStorage(database.pool, space.spaceId);
      const child = await storage.createChild(space.rootId, { label: 'race' });
      const results = await Promise.allSettled([
        storage.commitTurn(child.id, { records: turn(1), countTurn: true, expectedTurnCount: 0 }),
        storage.commitTurn(child.id, { records: turn(2), countTurn: true, expectedTurnCount: 0 }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toMatchObject({ code: 'TURN_CONFLICT' });
      expect(await recordCount(child.id)).toBe(2);
    });
  });

  describe('text round trips', () => {
    it('keeps emoji, CJK and combining marks intact', async () => {
      const storage = new PgSessionStorage(database.pool, space.spaceId);
      const text = '👩🏽‍💻 会话树 🌳 e\u0301 a\u0308\u0304 ﷽ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢';
      const child = await storage.createChild(space.rootId, {
        label: text,
        tags: [text],
        metadata: { [text]: text },
        systemPrompt: text,
        records: [{ role: 'user', content: text, metadata: { note: text } }],
      });
      await storage.commitTurn(child.id, {
        records: [
          { role: 'assistant', content: text, toolCalls: [{ id: text, name: 'search', input: { q: text } }] },
          { role: 'tool', content: text, toolCallId: text },
        ],
        countTurn: true,
      });
      const row = (await storage.getSessionRow(child.id))!;
      expect(row.label).toBe(text);
      expect(row.tags).toEqual([text]);
      expect(row.metadata).toEqual({ [text]: text });
      expect(await storage.getSystemPrompt(child.id)).toBe(text);
      const records = await storage.listRecords(child.id);
      expect(records.map((r) => r.content)).toEqual([text, text, text]);
      expect(records[0]!.metadata).toEqual({ note: text });
      expect(records[1]!.toolCalls).toEqual([{ id: text, name: 'search', input: { q: text } }]);
      expect(records[2]!.toolCallId).toBe(text);
    });

    it('stores and reads back texts over 1 MB', async () => {
      const storage = new PgSessionStorage(database.pool, space.spaceId);
      const child = await storage.createChild(space.rootId, { label: 'huge' });
      const huge = `${'长文本 with emoji 🚀 '.repeat(70_000)}end`;
      expect(Buffer.byteLength(huge)).toBeGreaterThan(1_000_000);
      await storage.commitTurn(child.id, { records: [{ role: 'user', content: huge }], countTurn: true });
      await storage.putMemory(child.id, huge);
      const context = await storage.loadTurnContext(child.id, { maxRecords: 5 });
      expect(context!.records[0]!.content).toBe(huge);
      expect(context!.memory).toBe(huge);
    });

    it('refuses NUL characters with INVALID_ARGUMENT and writes nothing', async () => {
      const storage = new PgSessionStorage(database.pool, space.spaceId);
      const child = await storage.createChild(space.rootId, { label: 'nul', systemPrompt: null });
      const nul = 'before\u0000after';
      await expectCode(storage.appendRecord(child.id, { role: 'user', content: nul }), 'INVALID_ARGUMENT');
      await expectCode(
        storage.commitTurn(child.id, {
          records: [
            { role: 'user', content: 'fine' },
            { role: 'assistant', content: 'x', metadata: { [nul]: 1 } },
          ],
          countTurn: true,
        }),
        'INVALID_ARGUMENT',
      );
      await expectCode(
        storage.commitTurn(child.id, {
          records: [
            { role: 'assistant', content: '', toolCalls: [{ id: 'c', name: 'n', input: { q: nul } }] },
          ],
          countTurn: true,
        }),
        'INVALID_ARGUMENT',
      );
      await expectCode(storage.putSystemPrompt(child.id, nul), 'INVALID_ARGUMENT');
      await expectCode(storage.createChild(child.id, { label: nul }), 'INVALID_ARGUMENT');
      await expectCode(storage.createChild(child.id, { label: 'x', tags: [nul] }), 'INVALID_ARGUMENT');
      const meta = (await storage.getSession(child.id))!;
      await expectCode(storage.putSession({ ...meta, metadata: { note: nul } }), 'INVALID_ARGUMENT');
      expect(await storage.listRecords(child.id)).toEqual([]);
      expect(await storage.getSystemPrompt(child.id)).toBeNull();
      expect((await storage.getSessionRow(child.id))!).toMatchObject({ turnCount: 0, metadata: {} });
    });
  });

  describe('ids that are not uuids', () => {
    it('treats them as missing without asking PostgreSQL', async () => {
      const storage = new PgSessionStorage(database.pool, space.spaceId);
      const counter = countStatements(database.pool);
      try {
        for (const id of ['', 'root', '1', "x' OR '1'='1", '00000000-0000-4000-8000-00000000000z']) {
          expect(await storage.getSession(id)).toBeNull();
          expect(await storage.getSessionRow(id)).toBeNull();
          expect(await storage.listRecords(id)).toEqual([]);
          expect(await storage.getMemory(id)).toBeNull();
          expect(await storage.loadTurnContext(id, { maxRecords: 5 })).toBeNull();
          await expectCode(storage.appendRecord(id, { role: 'user', content: 'x' }), 'SESSION_NOT_FOUND');
          await expectCode(storage.putMemory(id, 'x'), 'SESSION_NOT_FOUND');
          await expectCode(storage.clearInsight(id), 'SESSION_NOT_FOUND');
          await expectCode(storage.trimRecords(id, 1), 'SESSION_NOT_FOUND');
          await expectCode(storage.commitTurn(id, { records: [], countTurn: true }), 'SESSION_NOT_FOUND');
          await expectCode(storage.createChild(id, { label: 'x' }), 'SESSION_NOT_FOUND');
        }
        expect(counter.count).toBe(0);
      } finally {
        counter.stop();
      }
    });

    it('refuses a space id that is not a uuid', () => {
      expect(() => new PgSessionStorage(database.pool, 'space-1')).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    });
  });

  describe('argument checks', () => {
    it('refuses bad roles, timestamps, slot keys and counts with INVALID_ARGUMENT', async () => {
      const storage = new PgSessionStorage(database.pool, space.spaceId);
      const id = space.rootId;
      await expectCode(
        storage.appendRecord(id, { role: 'robot' as Message['role'], content: 'x' }),
        'INVALID_ARGUMENT',
      );
      await expectCode(
        storage.appendRecord(id, { role: 'user', content: 'x', timestamp: 'yesterday' }),
        'INVALID_ARGUMENT',
      );
      await expectCode(storage.putSlot(id, 'bogus' as 'memory', 'x'), 'INVALID_ARGUMENT');
      await expectCode(storage.trimRecords(id, -1), 'INVALID_ARGUMENT');
      await expectCode(storage.listRecords(id, { limit: 1.5 }), 'INVALID_ARGUMENT');
      await expectCode(storage.loadTurnContext(id, { maxRecords: -1 }), 'INVALID_ARGUMENT');
      await expectCode(storage.createChild(id, { label: '   ' }), 'INVALID_ARGUMENT');
    });
  });
});
