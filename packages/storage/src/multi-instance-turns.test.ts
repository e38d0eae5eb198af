import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { createStelloAgent, type StelloAgent } from '@stello-ai/core';
import { createPool } from '@stello-ai/db';
import type { LLMAdapter, LLMResult, Message } from '@stello-ai/session';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countStatements } from './__fixtures__/count-statements';
import { createSpaceFixture, type SpaceFixture } from './__fixtures__/space-fixture';
import { PgMainStorage } from './pg-main-storage';
import { PgMemoryEngine } from './pg-memory-engine';
import { PgSessionTree } from './pg-session-tree';

// Two pools on one database are two server instances: nothing is shared but PostgreSQL.
let database: TestDatabase;
let secondPool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  secondPool = createPool({ connectionString: database.url, max: 5 });
});

afterAll(async () => {
  await secondPool?.end();
  await database?.drop();
});

const BOUNDED_WAIT_MS = 10_000;

/** A fake model answering `re: <last message>` after `delayMs`, counting calls that overlap. */
function delayedEcho(delayMs: number, hold?: Promise<void>) {
  const state = { calls: 0, inFlight: 0, maxInFlight: 0 };
  const llm: LLMAdapter = {
    model: 'delayed-echo',
    maxContextTokens: 100_000,
    async complete(messages: Message[]): Promise<LLMResult> {
      state.calls += 1;
      state.inFlight += 1;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (hold) await hold;
        return { content: `re: ${messages[messages.length - 1]?.content ?? ''}` };
      } finally {
        state.inFlight -= 1;
      }
    },
  };
  return { llm, state };
}

/** An agent of the space over `pool`, as a server instance builds it (without memory work). */
function instance(pool: pg.Pool, spaceId: string, llm: LLMAdapter, waitMs?: number): StelloAgent {
  return createStelloAgent({
    sessions: new PgSessionTree(pool, spaceId),
    memory: new PgMemoryEngine(pool, spaceId),
    storage: new PgMainStorage(pool, spaceId),
    llm,
    orchestration: {
      consolidateEveryNTurns: 0,
      ...(waitMs === undefined ? {} : { turnLeaseWaitMs: waitMs }),
    },
    runtime: { recyclePolicy: { idleTtlMs: 60_000 } },
  });
}

async function leaseOf(sessionId: string) {
  const { rows } = await database.pool.query<{ owner: string | null; expires: Date | null }>(
    'SELECT turn_lease_owner AS owner, turn_lease_expires_at AS expires FROM sessions WHERE id = $1',
    [sessionId],
  );
  return rows[0]!;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`timed out: ${what}`)), BOUNDED_WAIT_MS),
    ),
  ]);
}

describe('StelloAgent over PostgreSQL on two instances', () => {
  let space: SpaceFixture;

  beforeAll(async () => {
    space = await createSpaceFixture(database.pool, 'two instances');
  });

  async function newSession(label: string): Promise<string> {
    return (await space.storage.createChild(space.rootId, { label })).id;
  }

  it('runs 20 overlapping turns of two instances on one session one at a time, all stored', async () => {
    const sessionId = await newSession('shared');
    const { llm, state } = delayedEcho(5);
    const first = instance(database.pool, space.spaceId, llm);
    const second = instance(secondPool, space.spaceId, llm);

    const turns = Array.from({ length: 10 }, (_, i) => [
      first.turn(sessionId, `first ${i}`),
      second.turn(sessionId, `second ${i}`),
    ]).flat();
    const settled = await withTimeout(Promise.allSettled(turns), 'twenty turns');

    expect(settled.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    expect(state.calls).toBe(20);
    expect(state.maxInFlight).toBe(1);
    expect((await space.storage.getSessionRow(sessionId))!.turnCount).toBe(20);
    const records = await space.storage.listRecords(sessionId);
    expect(records).toHaveLength(40);
    for (let i = 0; i < records.length; i += 2) {
      const question = records[i]!;
      const answer = records[i + 1]!;
      expect([question.role, answer.role]).toEqual(['user', 'assistant']);
      expect(answer.content).toBe(`re: ${question.content}`);
    }
    // Each instance ran its own ten turns in the order they were asked for.
    for (const name of ['first', 'second']) {
      const asked = records
        .filter((r) => r.role === 'user' && r.content.startsWith(name))
        .map((r) => r.content);
      expect(asked).toEqual(Array.from({ length: 10 }, (_, i) => `${name} ${i}`));
    }
    expect(await leaseOf(sessionId)).toEqual({ owner: null, expires: null });
  });

  it('costs two statements for a warm turn, the lease included', async () => {
    const sessionId = await newSession('warm');
    const agent = instance(database.pool, space.spaceId, delayedEcho(0).llm);
    await agent.turn(sessionId, 'warm up');

    const counter = countStatements(database.pool);
    try {
      await agent.turn(sessionId, 'counted');
      expect(counter.count, counter.statements.join('\n---\n')).toBe(2);
    } finally {
      counter.stop();
    }
    expect(await leaseOf(sessionId)).toEqual({ owner: null, expires: null });
  });

  it('is not blocked by the lapsed lease of an instance that crashed mid-turn', async () => {
    const sessionId = await newSession('crashed');
    await database.pool.query(
      `UPDATE sessions SET turn_lease_owner = 'crashed-instance:7', turn_lease_expires_at = now() - interval '1 second'
       WHERE id = $1`,
      [sessionId],
    );
    const agent = instance(secondPool, space.spaceId, delayedEcho(0).llm, 0);

    const { turn } = await agent.turn(sessionId, 'anyone there?');

    expect(turn.finalContent).toBe('re: anyone there?');
    expect(await leaseOf(sessionId)).toEqual({ owner: null, expires: null });
  });

  it('waits for a live lease up to turnLeaseWaitMs, then fails with SESSION_BUSY and writes nothing', async () => {
    const sessionId = await newSession('held');
    await database.pool.query(
      `UPDATE sessions SET turn_lease_owner = 'other-instance:1', turn_lease_expires_at = now() + interval '1 minute'
       WHERE id = $1`,
      [sessionId],
    );
    const { llm, state } = delayedEcho(0);
    const agent = instance(secondPool, space.spaceId, llm, 100);

    const error = await agent.turn(sessionId, 'hello').catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'SESSION_BUSY', details: { sessionId, waitedMs: 100 } });
    expect(state.calls).toBe(0);
    expect(await space.storage.listRecords(sessionId)).toEqual([]);
    expect(await leaseOf(sessionId)).toMatchObject({ owner: 'other-instance:1' });
  });

  it('releases the lease of an aborted turn, so the other instance runs at once', async () => {
    const sessionId = await newSession('aborted');
    let release!: () => void;
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = delayedEcho(0, hold);
    const first = instance(database.pool, space.spaceId, slow.llm);
    const second = instance(secondPool, space.spaceId, delayedEcho(0).llm, 0);
    const controller = new AbortController();

    const aborted = first.turn(sessionId, 'never stored', { signal: controller.signal });
    const deadline = Date.now() + BOUNDED_WAIT_MS;
    while (slow.state.calls === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect((await leaseOf(sessionId)).owner).not.toBeNull();
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
    // The release is the aborted turn's last step; the model call itself is still hanging.
    while ((await leaseOf(sessionId)).owner !== null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await leaseOf(sessionId)).toEqual({ owner: null, expires: null });

    // With no wait allowed, the other instance's turn proves the lease is free.
    const { turn } = await second.turn(sessionId, 'my turn');
    expect(turn.finalContent).toBe('re: my turn');
    release();
    expect((await space.storage.listRecords(sessionId)).map((r) => r.content)).toEqual([
      'my turn',
      're: my turn',
    ]);
  });
});
