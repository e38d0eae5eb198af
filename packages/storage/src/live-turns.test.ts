import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { createStelloAgent, type StelloAgent, tool } from '@stello-ai/core';
import { createPool } from '@stello-ai/db';
import type { LLMAdapter, LLMResult, Message } from '@stello-ai/session';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpaceFixture, type SpaceFixture } from './__fixtures__/space-fixture';
import { PgControlChannel } from './control/pg-control-channel';
import { PgMainStorage } from './pg-main-storage';
import { PgMemoryEngine } from './pg-memory-engine';
import { PgSessionTree } from './pg-session-tree';
import { sweepTurns } from './turn-sweeper';

// Each pool (with its own control channel) is one server process: only PostgreSQL is shared.
let database: TestDatabase;
let secondPool: pg.Pool;
const channels: PgControlChannel[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  secondPool = createPool({ connectionString: database.url, max: 5 });
});

afterAll(async () => {
  await Promise.all(channels.map((channel) => channel.close()));
  await secondPool?.end();
  await database?.drop();
});

const BOUNDED_WAIT_MS = 10_000;

/** A promise and its resolver. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** A fake model that answers `re: <last message>`, counting calls; `hold` keeps an answer back. */
function countingModel(options: { hold?: Promise<void>; toolFirst?: string } = {}) {
  const state = { calls: 0, started: deferred() };
  const llm: LLMAdapter = {
    model: 'counting',
    maxContextTokens: 100_000,
    async complete(messages: Message[], callOptions): Promise<LLMResult> {
      state.calls += 1;
      state.started.resolve();
      const last = messages[messages.length - 1];
      if (options.toolFirst && last?.role === 'user') {
        return { content: null, toolCalls: [{ id: 'call-1', name: options.toolFirst, input: {} }] };
      }
      if (options.hold) {
        await Promise.race([
          options.hold,
          new Promise((_, reject) =>
            callOptions?.signal?.addEventListener('abort', () => reject(callOptions.signal?.reason), {
              once: true,
            }),
          ),
        ]);
      }
      return { content: `re: ${last?.content ?? ''}` };
    },
  };
  return { llm, state };
}

/** A tool that waits until its turn is aborted, and says when it started. */
function waitingTool() {
  const started = deferred();
  const definition = tool('wait_forever', 'waits until cancelled', {}, (_input, context) => {
    started.resolve();
    return new Promise((_, reject) =>
      context.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
    );
  });
  return { definition, started: started.promise };
}

interface ProcessOptions {
  control?: PgControlChannel;
  tools?: ReturnType<typeof waitingTool>['definition'][];
  waitMs?: number;
}

/** An agent of the space over `pool`, as a server process builds it. */
function agentOn(pool: pg.Pool, spaceId: string, llm: LLMAdapter, options: ProcessOptions = {}): StelloAgent {
  const agent = createStelloAgent({
    sessions: new PgSessionTree(pool, spaceId),
    memory: new PgMemoryEngine(pool, spaceId),
    storage: new PgMainStorage(pool, spaceId, options.control ? { control: options.control } : {}),
    llm,
    capabilities: { tools: options.tools ?? [] },
    orchestration: {
      consolidateEveryNTurns: 0,
      ...(options.waitMs === undefined ? {} : { turnLeaseWaitMs: options.waitMs }),
    },
  });
  // What the runtime wires: a cancel published by any process aborts the turn if it runs here.
  options.control?.subscribe((event) => {
    if (event.kind === 'turn.cancel' && event.turnId) agent.abortLocalTurn(event.turnId);
  });
  return agent;
}

async function openControl(pool: pg.Pool): Promise<PgControlChannel> {
  const channel = new PgControlChannel({ connectionString: database.url, pool });
  channels.push(channel);
  await channel.start();
  return channel;
}

function withTimeout<T>(promise: Promise<T>, what: string, ms = BOUNDED_WAIT_MS): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
  ]);
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + BOUNDED_WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('live turns over PostgreSQL', () => {
  let space: SpaceFixture;

  beforeAll(async () => {
    space = await createSpaceFixture(database.pool, 'live turns');
  });

  async function newSession(label: string): Promise<string> {
    return (await space.storage.createChild(space.rootId, { label })).id;
  }

  it('answers a retry on another process with the first attempt: one LLM call, one pair, also after a restart', async () => {
    const sessionId = await newSession('retry');
    const release = deferred();
    const { llm, state } = countingModel({ hold: release.promise });
    const turnId = randomUUID();
    const first = agentOn(database.pool, space.spaceId, llm).turn(sessionId, 'hello', { turnId });
    await state.started.promise;
    const retry = agentOn(secondPool, space.spaceId, llm).turn(sessionId, 'hello', { turnId });
    await new Promise((resolve) => setTimeout(resolve, 100));
    release.resolve();

    const [a, b] = await withTimeout(Promise.all([first, retry]), 'first attempt and retry');
    expect(a).toEqual(b);
    expect(a).toMatchObject({ turnId, turn: { finalContent: 're: hello' } });
    expect(state.calls).toBe(1);
    const records = await space.storage.listRecords(sessionId);
    expect(records.map((r) => r.role)).toEqual(['user', 'assistant']);

    // A brand-new agent (a restarted process) finds the committed turn.
    const restarted = agentOn(secondPool, space.spaceId, llm);
    expect(await restarted.turn(sessionId, 'hello', { turnId })).toEqual(a);
    expect(state.calls).toBe(1);
    expect(await restarted.getTurn(sessionId, turnId)).toMatchObject({ status: 'completed', result: a });
    await expect(restarted.turn(sessionId, 'other input', { turnId })).rejects.toMatchObject({
      code: 'TURN_ID_CONFLICT',
    });
    expect(await space.storage.listRecords(sessionId)).toHaveLength(2);
  });

  it('runs 100 concurrent submissions of one turn id once, and refuses another input under it', async () => {
    const sessionId = await newSession('hundred');
    const { llm, state } = countingModel();
    const agent = agentOn(database.pool, space.spaceId, llm);
    const turnId = randomUUID();
    const submissions = Array.from({ length: 100 }, () => agent.turn(sessionId, 'once', { turnId }));
    const conflict = agent.turn(sessionId, 'twice', { turnId }).catch((error: unknown) => error);
    const results = await withTimeout(Promise.all(submissions), 'hundred submissions');

    expect(new Set(results.map((result) => JSON.stringify(result))).size).toBe(1);
    expect(state.calls).toBe(1);
    expect(await conflict).toMatchObject({ code: 'TURN_ID_CONFLICT' });
    expect(await space.storage.listRecords(sessionId)).toHaveLength(2);
  });

  it('cancels a turn during a tool call: nothing written, the insight kept, status cancelled', async () => {
    const sessionId = await newSession('cancel here');
    await space.storage.putInsight(sessionId, 'keep me');
    const waiting = waitingTool();
    const { llm } = countingModel({ toolFirst: 'wait_forever' });
    const agent = agentOn(database.pool, space.spaceId, llm, { tools: [waiting.definition] });
    const turnId = randomUUID();
    const events: string[] = [];
    const turn = agent.turn(sessionId, 'go', { turnId, onEvent: (event) => events.push(event.type) });
    await withTimeout(waiting.started, 'tool start');
    expect(await agent.getTurn(sessionId, turnId)).toMatchObject({ status: 'running' });

    expect(await agent.cancelTurn(sessionId, turnId)).toEqual({ turnId, status: 'cancelled' });
    await expect(withTimeout(turn, 'cancelled turn')).rejects.toMatchObject({ code: 'TURN_CANCELLED' });
    expect(events).toEqual(['tool.call']);
    expect(await space.storage.listRecords(sessionId)).toEqual([]);
    expect(await space.storage.getInsight(sessionId)).toBe('keep me');
    expect(await agent.getTurn(sessionId, turnId)).toMatchObject({ status: 'cancelled' });
    // The same id again answers the same error; the session is free for other turns.
    await expect(agent.turn(sessionId, 'go', { turnId })).rejects.toMatchObject({ code: 'TURN_CANCELLED' });
    const next = agentOn(database.pool, space.spaceId, countingModel().llm).turn(sessionId, 'next');
    await expect(withTimeout(next, 'next turn')).resolves.toMatchObject({
      turn: { finalContent: 're: next' },
    });
  });

  it('cancels a turn that runs on another process through PostgreSQL', async () => {
    const sessionId = await newSession('cancel there');
    const [controlA, controlB] = await Promise.all([openControl(database.pool), openControl(secondPool)]);
    const waiting = waitingTool();
    const { llm } = countingModel({ toolFirst: 'wait_forever' });
    const owner = agentOn(database.pool, space.spaceId, llm, {
      control: controlA,
      tools: [waiting.definition],
    });
    const other = agentOn(secondPool, space.spaceId, llm, { control: controlB });
    const turnId = randomUUID();
    const turn = owner.turn(sessionId, 'go', { turnId });
    await withTimeout(waiting.started, 'tool start');

    expect(await other.cancelTurn(sessionId, turnId)).toEqual({ turnId, status: 'cancelled' });
    await expect(withTimeout(turn, 'remotely cancelled turn')).rejects.toMatchObject({
      code: 'TURN_CANCELLED',
    });
    expect(await space.storage.listRecords(sessionId)).toEqual([]);
    expect(await other.getTurn(sessionId, turnId)).toMatchObject({ status: 'cancelled' });
  });

  it('leaves a tombstone for a turn cancelled before it was submitted', async () => {
    const sessionId = await newSession('tombstone');
    const { llm, state } = countingModel();
    const agent = agentOn(database.pool, space.spaceId, llm);
    const turnId = randomUUID();
    expect(await agent.cancelTurn(sessionId, turnId)).toEqual({ turnId, status: 'cancelled' });
    await expect(agent.turn(sessionId, 'late', { turnId })).rejects.toMatchObject({ code: 'TURN_CANCELLED' });
    expect(state.calls).toBe(0);
    expect(await agent.getTurn(sessionId, randomUUID())).toBeNull();
  });

  it('rejects at once under `reject` across processes, naming the running turn', async () => {
    const sessionId = await newSession('reject');
    const release = deferred();
    const { llm, state } = countingModel({ hold: release.promise });
    const running = randomUUID();
    const first = agentOn(database.pool, space.spaceId, llm).turn(sessionId, 'first', { turnId: running });
    await state.started.promise;
    const started = Date.now();
    const busy = await agentOn(secondPool, space.spaceId, llm)
      .turn(sessionId, 'second', { concurrency: 'reject' })
      .catch((error: unknown) => error);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(busy).toMatchObject({ code: 'SESSION_BUSY', details: { turnId: running } });
    release.resolve();
    await first;
    expect(await space.storage.listRecords(sessionId)).toHaveLength(2);
  });

  it('frees the session of a process that died mid-turn within 2 s; the dead turn reads failed, nothing partial', async () => {
    const sessionId = await newSession('crash');
    const deadPool = createPool({ connectionString: database.url, max: 3 });
    const deadControl = await openControl(deadPool);
    const hold = deferred();
    const dead = countingModel({ hold: hold.promise });
    const doomed = randomUUID();
    const zombie = agentOn(deadPool, space.spaceId, dead.llm, { control: deadControl })
      .turn(sessionId, 'lost', { turnId: doomed })
      .catch((error: unknown) => error);
    await dead.state.started.promise;

    // As after SIGKILL: the control connection goes away, and with it the liveness lock.
    await database.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND objid = $1::int::oid`,
      [deadControl.instanceId],
    );
    await deadControl.close();

    const survivorControl = await openControl(secondPool);
    const survivor = agentOn(secondPool, space.spaceId, countingModel().llm, { control: survivorControl });
    const started = Date.now();
    const answer = await withTimeout(survivor.turn(sessionId, 'after the crash'), 'turn after crash', 2_000);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(answer.turn.finalContent).toBe('re: after the crash');
    expect(await survivor.getTurn(sessionId, doomed)).toMatchObject({ status: 'failed' });

    // The dead process's turn, should it still reach its commit, writes nothing.
    hold.resolve();
    expect(await withTimeout(zombie, 'zombie turn')).toMatchObject({ code: 'TURN_CONFLICT' });
    const records = await space.storage.listRecords(sessionId);
    expect(records.map((r) => r.content)).toEqual(['after the crash', 're: after the crash']);
    await until(
      async () => (await survivor.getTurn(sessionId, doomed))?.status === 'failed',
      'dead turn failed',
    );
    await deadPool.end();
  });
});

describe('sweepTurns', () => {
  it('fails the open turns of dead processes and deletes finished turns past the retention', async () => {
    const space = await createSpaceFixture(database.pool, 'sweep');
    const sessionId = (await space.storage.createChild(space.rootId, { label: 'swept' })).id;
    const control = await openControl(database.pool);
    const [dead, alive, old, recent] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await database.pool.query(
      `INSERT INTO turns (space_id, turn_id, session_id, request_hash, status, owner_instance, finished_at) VALUES
        ($1, $3, $2, 'h', 'running', 2147483000, NULL),
        ($1, $4, $2, 'h', 'running', $7, NULL),
        ($1, $5, $2, 'h', 'completed', NULL, now() - interval '25 hours'),
        ($1, $6, $2, 'h', 'completed', NULL, now() - interval '1 hour')`,
      [space.spaceId, sessionId, dead, alive, old, recent, control.instanceId],
    );
    const result = await sweepTurns(database.pool);
    expect(result.failed).toBeGreaterThanOrEqual(1);
    expect(result.deleted).toBeGreaterThanOrEqual(1);
    const { rows } = await database.pool.query<{ turn_id: string; status: string }>(
      'SELECT turn_id, status FROM turns WHERE session_id = $1 ORDER BY turn_id',
      [sessionId],
    );
    const byId = Object.fromEntries(rows.map((row) => [row.turn_id, row.status]));
    expect(byId).toEqual({ [dead]: 'failed', [alive]: 'running', [recent]: 'completed' });
  });
});
