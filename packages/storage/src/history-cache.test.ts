import { createTestDatabase, expectCode, type TestDatabase } from '@internal/testing';
import { createPool } from '@stello-ai/db';
import type { Message, TurnContextData } from '@stello-ai/session';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSpaceFixture, type SpaceFixture } from './__fixtures__/space-fixture';
import { PgMemoryEngine } from './pg-memory-engine';
import { PgSessionStorage } from './pg-session-storage';

let database: TestDatabase;
/** A pool whose turn-context reads are watched: did the statement send the window? */
let watched: pg.Pool;
const windowsSent: boolean[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  watched = createPool({ connectionString: database.url, max: 4 });
  watched.on('acquire', (client: pg.PoolClient & { watched?: true }) => {
    if (client.watched) return;
    client.watched = true;
    const original = client.query as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = function query(this: unknown, ...args: unknown[]) {
      const config = args[0] as string | { text?: string };
      const text = typeof config === 'string' ? config : (config?.text ?? '');
      if (!text.includes('AS lease_taken')) return original.apply(this, args);
      const observe = (result: pg.QueryResult | undefined) =>
        windowsSent.push(result?.rows[0]?.records != null);
      // pool.query passes a callback; Kysely awaits the promise.
      const callback = args.at(-1);
      if (typeof callback === 'function') {
        args[args.length - 1] = (error: unknown, result: pg.QueryResult) => {
          if (!error) observe(result);
          callback(error, result);
        };
        return original.apply(this, args);
      }
      const promise = original.apply(this, args) as Promise<pg.QueryResult>;
      return promise.then((result) => {
        observe(result);
        return result;
      });
    };
  });
});

afterAll(async () => {
  await watched.end();
  await database.drop();
});

let stamp = Date.parse('2026-01-01T00:00:00.000Z');
function turn(n: number): Message[] {
  stamp += 1000;
  return [
    { role: 'user', content: `question ${n}`, timestamp: new Date(stamp).toISOString() },
    {
      role: 'assistant',
      content: `answer ${n}`,
      timestamp: new Date(stamp + 1).toISOString(),
      toolCalls: [{ id: `call-${n}`, name: 'lookup', input: { q: n, nested: { z: 1, a: [1, 2] } } }],
      metadata: { zeta: n, alpha: 'first' },
    },
    {
      role: 'tool',
      content: `result ${n}`,
      toolCallId: `call-${n}`,
      timestamp: new Date(stamp + 2).toISOString(),
    },
  ];
}

/** The contents of `turn(n)`'s records, in order. */
function turnContents(n: number): string[] {
  return [`question ${n}`, `answer ${n}`, `result ${n}`];
}

function contents(context: TurnContextData): string[] {
  return context.records.map((record) => record.content);
}

const LEASE = { owner: 'cache-test', ttlMs: 60_000 };

describe('PgSessionStorage history cache', () => {
  let space: SpaceFixture;
  let cached: PgSessionStorage;
  /** Reads every window in full: the reference a cached read must equal. */
  let uncached: PgSessionStorage;
  let sessionId: string;

  beforeEach(async () => {
    space = await createSpaceFixture(database.pool, 'history cache');
    cached = new PgSessionStorage(watched, space.spaceId);
    uncached = new PgSessionStorage(database.pool, space.spaceId, { historyCacheSessions: 0 });
    sessionId = (await cached.createChild(space.rootId, { label: 'topic' })).id;
    windowsSent.length = 0;
  });

  async function readBoth(maxRecords: number): Promise<TurnContextData> {
    const fromCache = await cached.loadTurnContext(sessionId, { maxRecords, lease: LEASE });
    const reference = await uncached.loadTurnContext(sessionId, { maxRecords });
    expect(fromCache).not.toBeNull();
    expect(fromCache!.records).toEqual(reference!.records);
    expect(fromCache!.hasOlderRecords).toBe(reference!.hasOlderRecords);
    expect(fromCache!.turnCount).toBe(reference!.turnCount);
    return fromCache!;
  }

  it('reads the window once, then only the revision, across turns and past the window size', async () => {
    for (let n = 0; n < 6; n++) {
      const context = await readBoth(7);
      await cached.commitTurn(sessionId, {
        records: turn(n),
        countTurn: true,
        expectedTurnCount: context.turnCount,
        releaseLease: LEASE.owner,
      });
    }
    const last = await readBoth(7);
    expect(last.records).toHaveLength(7);
    expect(last.hasOlderRecords).toBe(true);
    expect(last.records.at(-1)).toMatchObject({ role: 'tool', content: 'result 5', toolCallId: 'call-5' });
    // The first read sent the (empty) window; every later one found its copy exact.
    expect(windowsSent).toEqual([true, false, false, false, false, false, false]);
  });

  it('sees records written by another storage instance (another process)', async () => {
    await readBoth(50);
    await cached.commitTurn(sessionId, { records: turn(1), countTurn: true });
    await uncached.commitTurn(sessionId, { records: turn(2), countTurn: true });
    const context = await readBoth(50);
    expect(contents(context)).toEqual([...turnContents(1), ...turnContents(2)]);
    expect(windowsSent).toEqual([true, true]);
  });

  it('sees appends, trims and replacements made outside turns', async () => {
    await cached.commitTurn(sessionId, { records: turn(1), countTurn: true });
    await readBoth(50);

    await uncached.appendRecord(sessionId, {
      role: 'system',
      content: 'appended',
      timestamp: turn(9)[0]!.timestamp!,
    });
    expect((await readBoth(50)).records.at(-1)?.content).toBe('appended');

    await uncached.trimRecords(sessionId, 2);
    expect((await readBoth(50)).records.map((r) => r.content)).toEqual(['result 1', 'appended']);

    await new PgMemoryEngine(database.pool, space.spaceId).replaceRecords(sessionId, [
      { role: 'user', content: 'replaced', timestamp: turn(10)[0]!.timestamp! },
    ]);
    expect((await readBoth(50)).records.map((r) => r.content)).toEqual(['replaced']);
    expect(windowsSent).toEqual([true, true, true, true]);
  });

  it('keeps its copy exact when a transaction on the same storage rolls back', async () => {
    await readBoth(50);
    const failure = new Error('rolled back');
    await expect(
      cached.transaction(async (tx) => {
        await tx.commitTurn(sessionId, { records: turn(1), countTurn: true });
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect((await readBoth(50)).records).toEqual([]);
    await cached.commitTurn(sessionId, { records: turn(2), countTurn: true });
    expect(contents(await readBoth(50))).toEqual(turnContents(2));
  });

  it('stores no guess for records without a timestamp: the next read has the database time', async () => {
    await readBoth(50);
    await cached.commitTurn(sessionId, { records: [{ role: 'user', content: 'no time' }], countTurn: true });
    const context = await readBoth(50);
    expect(context.records[0]?.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(windowsSent).toEqual([true, true]);
  });

  it('drops its copy when a commit fails, and reads the window again', async () => {
    await readBoth(50);
    await expectCode(
      cached.commitTurn(sessionId, { records: turn(1), countTurn: true, expectedTurnCount: 5 }),
      'TURN_CONFLICT',
    );
    await uncached.commitTurn(sessionId, { records: turn(2), countTurn: true });
    expect(contents(await readBoth(50))).toEqual(turnContents(2));
  });

  it('reads a window of another size in full', async () => {
    for (let n = 0; n < 3; n++) await cached.commitTurn(sessionId, { records: turn(n), countTurn: true });
    await readBoth(4);
    const wider = await readBoth(8);
    expect(wider.records).toHaveLength(8);
    expect(windowsSent).toEqual([true, true]);
  });

  it('evicts the least recently used session beyond its size and stays correct', async () => {
    const small = new PgSessionStorage(watched, space.spaceId, { historyCacheSessions: 1 });
    const otherId = (await small.createChild(space.rootId, { label: 'other' })).id;
    for (let n = 0; n < 2; n++) {
      for (const id of [sessionId, otherId]) {
        await small.loadTurnContext(id, { maxRecords: 10 });
        await small.commitTurn(id, { records: turn(n), countTurn: true });
      }
    }
    for (const id of [sessionId, otherId]) {
      const context = await small.loadTurnContext(id, { maxRecords: 10 });
      const reference = await uncached.loadTurnContext(id, { maxRecords: 10 });
      expect(context!.records).toEqual(reference!.records);
    }
    // Alternating two sessions through one slot: every read had to send its window.
    expect(windowsSent.every(Boolean)).toBe(true);
  });

  it('gives each read its own array, and cached records cannot be changed in place', async () => {
    await cached.commitTurn(sessionId, { records: turn(1), countTurn: true });
    await readBoth(50);
    const first = await cached.loadTurnContext(sessionId, { maxRecords: 50 });
    first!.records.pop();
    expect(() => {
      (first!.records[0] as { content: string }).content = 'changed';
    }).toThrow(TypeError);
    expect((await readBoth(50)).records).toHaveLength(3);
  });

  it('forgets a deleted session', async () => {
    await readBoth(50);
    await space.storage.deleteSubtree(sessionId);
    expect(await cached.loadTurnContext(sessionId, { maxRecords: 50 })).toBeNull();
  });

  it('does not cache on a checked-out client, and refuses a bad size', async () => {
    const client = await database.pool.connect();
    try {
      const onClient = new PgSessionStorage(client, space.spaceId);
      await onClient.loadTurnContext(sessionId, { maxRecords: 50 });
      await uncached.commitTurn(sessionId, { records: turn(1), countTurn: true });
      expect((await onClient.loadTurnContext(sessionId, { maxRecords: 50 }))!.records).toHaveLength(3);
    } finally {
      client.release();
    }
    for (const bad of [-1, 1.5, Number.NaN]) {
      expect(() => new PgSessionStorage(database.pool, space.spaceId, { historyCacheSessions: bad })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });
});

describe('PgSessionStorage prepared statements', () => {
  async function preparedNames(preparedStatements?: boolean): Promise<string[]> {
    const space = await createSpaceFixture(database.pool, 'prepared');
    // A connection of its own: nothing prepared on it before this test.
    const own = createPool({ connectionString: database.url, max: 1 });
    const client = await own.connect();
    try {
      const storage = new PgSessionStorage(
        client,
        space.spaceId,
        preparedStatements === undefined ? {} : { preparedStatements },
      );
      for (let n = 0; n < 2; n++) {
        const context = await storage.loadTurnContext(space.rootId, { maxRecords: 10, lease: LEASE });
        await storage.commitTurn(space.rootId, {
          records: turn(n),
          countTurn: true,
          expectedTurnCount: context!.turnCount,
          releaseLease: LEASE.owner,
        });
      }
      const context = await storage.loadTurnContext(space.rootId, { maxRecords: 10 });
      expect(contents(context!)).toEqual([...turnContents(0), ...turnContents(1)]);
      const { rows } = await client.query<{ name: string }>(
        "SELECT name FROM pg_prepared_statements WHERE name LIKE 'stello_%' ORDER BY name",
      );
      return rows.map((row) => row.name);
    } finally {
      client.release();
      await own.end();
    }
  }

  it('prepares the read and the commit of a turn once per connection, by default', async () => {
    // The leased read, the commit and the plain read: three texts, each prepared once.
    expect(await preparedNames()).toHaveLength(3);
  });

  it('sends unnamed statements with preparedStatements: false', async () => {
    expect(await preparedNames(false)).toEqual([]);
  });

  it('refuses a preparedStatements that is not a boolean', async () => {
    const space = await createSpaceFixture(database.pool, 'bad option');
    expect(
      () =>
        new PgSessionStorage(database.pool, space.spaceId, {
          preparedStatements: 'yes' as unknown as boolean,
        }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
