import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlEvent } from './control-channel';
import { InMemoryControlBus } from './in-memory-control-channel';
import { INSTANCE_LOCK_NAMESPACE, instanceAliveSql, PgControlChannel } from './pg-control-channel';

let database: TestDatabase;
const opened: PgControlChannel[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await Promise.all(opened.map((channel) => channel.close()));
  await database.drop();
});

async function openChannel(options: { healthCheckMs?: number; errors?: unknown[] } = {}) {
  const channel = new PgControlChannel({
    connectionString: database.url,
    pool: database.pool,
    healthCheckMs: options.healthCheckMs,
    onError: (error) => options.errors?.push(error),
  });
  opened.push(channel);
  await channel.start();
  return channel;
}

function collect(channel: { subscribe(listener: (event: ControlEvent) => void): () => void }) {
  const events: ControlEvent[] = [];
  channel.subscribe((event) => events.push(event));
  return events;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('PgControlChannel', () => {
  it('delivers every event to every process in publish order, stamped with the publisher', async () => {
    const a = await openChannel();
    const b = await openChannel();
    expect(a.instanceId).toBeGreaterThan(0);
    expect(b.instanceId).not.toBe(a.instanceId);
    const seenByA = collect(a);
    const seenByB = collect(b);

    for (let i = 0; i < 20; i++) await a.publish({ kind: 'space.updated', spaceId: `s${i}` });
    await until(() => seenByB.length === 20 && seenByA.length === 20);

    expect(seenByB.map((event) => event.spaceId)).toEqual(Array.from({ length: 20 }, (_, i) => `s${i}`));
    expect(seenByB.every((event) => event.instanceId === a.instanceId)).toBe(true);
  });

  it('never sends a statement on its connection while another one runs there (pg 9 refuses it)', async () => {
    const channel = await openChannel();
    const seen = collect(channel);
    // pg keeps the running query in _activeQuery and the waiting ones in _queryQueue.
    type ClientState = { _activeQuery?: unknown; _queryQueue?: unknown[] };
    const query = pg.Client.prototype.query;
    let overlapping = 0;
    pg.Client.prototype.query = function (this: ClientState, ...args: unknown[]) {
      if (this._activeQuery || (this._queryQueue?.length ?? 0) > 0) overlapping++;
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
    try {
      // Publishes in many ticks: each tick's batch is one statement, sent while the last may run.
      const published: Promise<void>[] = [];
      for (let tick = 0; tick < 40; tick++) {
        for (let i = 0; i < 5; i++)
          published.push(channel.publish({ kind: 'space.updated', spaceId: `t${tick}.${i}` }));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(published);
      await until(() => seen.length === 200);
    } finally {
      pg.Client.prototype.query = query;
    }
    expect(overlapping).toBe(0);
    expect(seen.map((event) => event.spaceId)).toEqual(
      Array.from({ length: 200 }, (_, n) => `t${Math.floor(n / 5)}.${n % 5}`),
    );
  });

  it('sends an event from a statement only when its transaction commits', async () => {
    const a = await openChannel();
    const seen = collect(a);
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: database.pool }) });
    await db
      .transaction()
      .execute(async (trx) => {
        await sql`SELECT ${a.notifySql({ kind: 'turn.completed', turnId: 'rolled-back' })}`.execute(trx);
        throw new Error('roll back');
      })
      .catch(() => {});
    await sql`SELECT ${a.notifySql({ kind: 'turn.completed', turnId: 'committed' })}`.execute(db);
    await until(() => seen.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen.map((event) => event.turnId)).toEqual(['committed']);
  });

  it('refuses an event too large for NOTIFY before sending anything', async () => {
    const a = await openChannel();
    await expect(a.publish({ kind: 'x', data: { text: 'x'.repeat(8_000) } })).rejects.toThrow(RangeError);
  });

  it('tells a live process from a closed one, in PostgreSQL itself', async () => {
    const a = await openChannel();
    const b = await openChannel();
    expect(await b.isInstanceAlive(a.instanceId)).toBe(true);
    const id = a.instanceId;
    await a.close();
    expect(await b.isInstanceAlive(id)).toBe(false);
    expect(await b.isInstanceAlive(12345)).toBe(false);

    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: database.pool }) });
    const { rows } = await sql<{ alive: boolean; dead: boolean }>`
      SELECT ${instanceAliveSql(b.instanceId)} AS alive, ${instanceAliveSql(id)} AS dead`.execute(db);
    expect(rows[0]).toEqual({ alive: true, dead: false });
  });

  it('sees a process whose connection died abruptly (as after SIGKILL) as dead at once', async () => {
    const observer = await openChannel();
    // A raw connection that takes an identity lock, then loses its socket without a goodbye.
    const victim = new pg.Client({ connectionString: database.url });
    victim.on('error', () => {});
    await victim.connect();
    const id = 777_001;
    await victim.query('SELECT pg_advisory_lock($1::int, $2::int)', [INSTANCE_LOCK_NAMESPACE, id]);
    expect(await observer.isInstanceAlive(id)).toBe(true);

    (victim as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const started = Date.now();
    await until(async () => !(await observer.isInstanceAlive(id)), 2_000);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('reconnects after its connection is terminated, keeps its identity and asks listeners to resync', async () => {
    const errors: unknown[] = [];
    const a = await openChannel({ errors });
    const b = await openChannel();
    const id = a.instanceId;
    const resyncs: string[] = [];
    a.onResync((reason) => resyncs.push(reason));
    const seen = collect(a);

    await database.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = 'stello-control'
         AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = $1::int::oid)`,
      [id],
    );
    await until(() => resyncs.length === 1);
    expect(a.instanceId).toBe(id);
    expect(await b.isInstanceAlive(id)).toBe(true);
    expect(errors.length).toBeGreaterThan(0);

    await b.publish({ kind: 'space.deleted', spaceId: 'after-reconnect' });
    await until(() => seen.some((event) => event.spaceId === 'after-reconnect'));
  });

  it('rejects a channel name that is not a plain identifier', () => {
    expect(
      () => new PgControlChannel({ connectionString: database.url, pool: database.pool, channel: 'x; DROP' }),
    ).toThrow(TypeError);
  });
});

describe('InMemoryControlChannel', () => {
  it('behaves like the PostgreSQL channel for publish, subscribe and liveness', async () => {
    const bus = new InMemoryControlBus();
    const a = bus.channel();
    const b = bus.channel();
    await a.start();
    await b.start();
    const seen = collect(b);
    await a.publish({ kind: 'key.revoked', data: { keyId: 'k1' } });
    await until(() => seen.length === 1);
    expect(seen[0]).toEqual({ kind: 'key.revoked', data: { keyId: 'k1' }, instanceId: a.instanceId });
    expect(await b.isInstanceAlive(a.instanceId)).toBe(true);
    await a.close();
    expect(await b.isInstanceAlive(a.instanceId)).toBe(false);
    await expect(b.publish({ kind: 'x', data: { text: 'x'.repeat(8_000) } })).rejects.toThrow(RangeError);
  });
});
