import {
  type Context,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type pg from 'pg';

// One span per SQL statement, opened where the statement is sent so it nests under whatever span
// is active there (a turn). Only the pool is touched: when tracing is off nothing here runs at all.

/** Longest summary kept from a statement's text (its first words, never its values). */
const SUMMARY_MAX_WORDS = 3;
// Keywords and identifiers, double-quoted ones included (quotes hold names in SQL, never values).
const WORD = /^[A-Za-z_"][A-Za-z0-9_."]*$/;

const traced = new WeakSet<object>();

/**
 * The first words of `text` that are plain keywords or identifiers (`INSERT INTO "records"`,
 * `WITH`, `SELECT`): stops at the first other token, so no literal or parameter ever gets in.
 */
export function sqlSummary(text: string): string {
  const words: string[] = [];
  for (const token of text.trimStart().split(/\s+/, SUMMARY_MAX_WORDS)) {
    if (!WORD.test(token)) break;
    words.push(token);
  }
  return words.length > 0 ? words.join(' ') : 'SQL';
}

type QueryCallback = (error: Error | undefined, result: unknown) => void;

/** Options of {@link traceSqlStatements}. */
export interface TraceSqlOptions {
  /**
   * Only statements sent while a span is active get one (a turn's, a request's), not those of
   * background work such as the rate-limit sync every second. Default `false`.
   */
  requireParentSpan?: boolean;
}

function statementOf(config: unknown): { text: string; name?: string } | null {
  if (typeof config === 'string') return { text: config };
  const query = config as { text?: unknown; name?: unknown; submit?: unknown } | null;
  // A submittable (a cursor) is left alone: it has no single end to close a span on.
  if (!query || typeof query.submit === 'function' || typeof query.text !== 'string') return null;
  return typeof query.name === 'string' ? { text: query.text, name: query.name } : { text: query.text };
}

function startStatementSpan(tracer: Tracer, statement: { text: string; name?: string }): Span {
  const summary = sqlSummary(statement.text);
  const operation = summary.split(' ', 1)[0]?.toUpperCase() ?? 'SQL';
  return tracer.startSpan(
    summary,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system': 'postgresql',
        'db.system.name': 'postgresql',
        'db.operation.name': operation,
        'db.query.summary': summary,
        ...(statement.name !== undefined && { 'db.statement.name': statement.name }),
      },
    },
    context.active(),
  );
}

function endStatementSpan(span: Span, error: unknown): void {
  if (error) {
    // The SQLSTATE only: PostgreSQL's messages can quote the values that failed.
    const code = (error as { code?: unknown }).code;
    span.setAttribute('error.type', typeof code === 'string' ? code : 'ERROR');
    if (typeof code === 'string') span.setAttribute('db.response.status_code', code);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

function traceClient(client: pg.PoolClient, tracer: Tracer, requireParent: boolean): void {
  if (traced.has(client)) return;
  traced.add(client);
  const query = client.query as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = function tracedQuery(this: unknown, ...args: unknown[]) {
    const statement = statementOf(args[0]);
    if (!statement || (requireParent && !trace.getSpan(context.active()))) return query.apply(this, args);
    const span = startStatementSpan(tracer, statement);
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const callback = args[last] as QueryCallback;
      args[last] = (error: Error | undefined, result: unknown) => {
        endStatementSpan(span, error);
        callback(error, result);
      };
      return query.apply(this, args);
    }
    const pending = query.apply(this, args) as Promise<unknown>;
    pending.then(
      () => endStatementSpan(span, undefined),
      (error: unknown) => endStatementSpan(span, error ?? 'error'),
    );
    return pending;
  };
}

/**
 * Opens one OpenTelemetry span per SQL statement sent through `pool` (`pool.query`, and the
 * clients of `pool.connect`, which Kysely uses): kind `CLIENT`, `db.system=postgresql`, named by
 * the statement's first words (`db.query.summary`), with the prepared statement's name when it has
 * one and the SQLSTATE of a failure. Never the parameter values nor the rest of the text. The span's
 * parent is the span active where the statement was sent (a turn's), also when the statement waits
 * for a free connection. Changes `pool` itself (and returns it); idempotent.
 */
export function traceSqlStatements(pool: pg.Pool, tracer: Tracer, options: TraceSqlOptions = {}): pg.Pool {
  const requireParent = options.requireParentSpan === true;
  if (traced.has(pool)) return pool;
  traced.add(pool);
  const connect = pool.connect.bind(pool) as (callback?: unknown) => unknown;
  (pool as { connect: unknown }).connect = (callback?: unknown) => {
    if (typeof callback === 'function') {
      // pool.query's own callback: run it in the caller's context, not in that of whoever
      // released the connection it gets, so its statement's span finds the right parent.
      const active: Context = context.active();
      return connect((error: Error | undefined, client: pg.PoolClient, done: unknown) => {
        if (client) traceClient(client, tracer, requireParent);
        context.with(active, () => (callback as (...args: unknown[]) => void)(error, client, done));
      });
    }
    return (connect() as Promise<pg.PoolClient>).then((client) => {
      traceClient(client, tracer, requireParent);
      return client;
    });
  };
  return pool;
}
