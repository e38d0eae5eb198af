import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { context, type Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { sql } from 'kysely';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from './create-db';
import { createPool } from './create-pool';
import { queryPrepared } from './query-prepared';
import { sqlSummary, traceSqlStatements } from './telemetry';

describe('sqlSummary', () => {
  it('keeps the first plain words and stops before anything else', () => {
    expect(sqlSummary('select $1::int8 as n')).toBe('select');
    expect(sqlSummary('  INSERT INTO "records" ("id") values ($1)')).toBe('INSERT INTO "records"');
    expect(sqlSummary("select 'secret' as s")).toBe('select');
    expect(sqlSummary('WITH prior AS (select 1) select 2')).toBe('WITH prior AS');
    expect(sqlSummary("'quoted' first")).toBe('SQL');
  });
});

describe('traceSqlStatements', () => {
  let database: TestDatabase;
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('test');
  const pools: pg.Pool[] = [];

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    database = await createTestDatabase({ migrated: false });
  });
  afterEach(() => exporter.reset());
  afterAll(async () => {
    for (const pool of pools) await pool.end();
    await database?.drop();
    context.disable();
  });

  function tracedPool(requireParentSpan = false): pg.Pool {
    const pool = createPool({ connectionString: database.url, max: 1 });
    pools.push(pool);
    return traceSqlStatements(pool, tracer, { requireParentSpan });
  }

  const inSpan = <T>(name: string, fn: (span: Span) => Promise<T>): Promise<T> =>
    tracer.startActiveSpan(name, async (span) => {
      try {
        return await fn(span);
      } finally {
        span.end();
      }
    });

  const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

  it('opens one span per statement of pool.query, Kysely and queryPrepared, under the active span', async () => {
    const pool = tracedPool();
    const db = createDb(pool);
    const parent = await inSpan('parent', async (span) => {
      await pool.query('select $1::text as secret', ['a value never traced']);
      await sql`select ${'another hidden value'}::text as t`.execute(db);
      await queryPrepared(pool, sql<{ n: number }>`select ${7}::int8 as n`.compile(db));
      return span.spanContext().spanId;
    });
    const statements = exporter.getFinishedSpans().filter((s) => s.name !== 'parent');
    expect(statements).toHaveLength(3);
    for (const statement of statements) {
      expect(parentOf(statement)).toBe(parent);
      expect(statement.name).toBe('select');
      expect(statement.attributes).toMatchObject({
        'db.system': 'postgresql',
        'db.operation.name': 'SELECT',
        'db.query.summary': 'select',
      });
      expect(JSON.stringify(statement.attributes)).not.toMatch(/value|secret/);
    }
    expect(statements[2]!.attributes['db.statement.name']).toMatch(/^stello_[0-9a-f]{20}$/);
  });

  it('gives a statement that waited for the connection the parent of its caller, not of the releaser', async () => {
    const pool = tracedPool();
    let release: () => void = () => {};
    let held: () => void = () => {};
    const holding = new Promise<void>((resolve) => {
      held = resolve;
    });
    const holder = inSpan('holder', async () => {
      const client = await pool.connect();
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      held();
      await released;
      client.release();
    });
    await holding;
    // The pool's one connection is held: this query queues, and runs when the holder releases it.
    const waiter = await inSpan('waiter', async (span) => {
      const pending = pool.query('select 1');
      release();
      await pending;
      return span.spanContext().spanId;
    });
    await holder;
    const statement = exporter.getFinishedSpans().find((s) => s.name === 'select');
    expect(parentOf(statement!)).toBe(waiter);
  });

  it('records the SQLSTATE of a failed statement, not its message', async () => {
    const pool = tracedPool();
    await inSpan('parent', async () => {
      await expect(pool.query("select 'not-a-number-secret'::int")).rejects.toThrow();
    });
    const failed = exporter.getFinishedSpans().find((s) => s.name === 'select');
    expect(failed?.status.code).toBe(2); // SpanStatusCode.ERROR
    expect(failed?.attributes['db.response.status_code']).toBe('22P02');
    expect(JSON.stringify([failed?.attributes, failed?.status, failed?.events])).not.toContain('secret');
  });

  it('with requireParentSpan, leaves statements sent outside any span untraced', async () => {
    const pool = tracedPool(true);
    await pool.query('select 1');
    expect(exporter.getFinishedSpans()).toEqual([]);
    await inSpan('parent', () => pool.query('select 2'));
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['select', 'parent']);
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
