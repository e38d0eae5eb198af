import type pg from 'pg';

/** The number of SQL round trips a pool has made since the last reset. */
export interface StatementCounter {
  /** Round trips counted so far. */
  readonly count: number;
  /** Starts counting from zero again. */
  reset(): void;
  /** Starts keeping the text of every statement (or stops, and forgets them). */
  trace(on: boolean): void;
  /** The statements kept since tracing started, oldest first (texts cut to a few hundred characters). */
  readonly traced: readonly string[];
}

// Enough of a statement to tell which query of the code it is.
const TRACE_TEXT_CHARS = 240;
// A forgotten trace must not grow without bound.
const TRACE_MAX_STATEMENTS = 1_000;

function statementText(args: unknown[]): string {
  const first = args[0];
  const text =
    typeof first === 'string' ? first : ((first as { text?: unknown } | null)?.text ?? String(first));
  return String(text).replace(/\s+/g, ' ').trim().slice(0, TRACE_TEXT_CHARS);
}

type QueryFn = (...args: unknown[]) => unknown;

/**
 * Counts every `query` call of the clients a pool hands out; each call is one round trip to
 * PostgreSQL (`BEGIN` and `COMMIT` included). Install it before the pool's first query.
 *
 * Only the clients are wrapped: `pool.query` runs on a pooled client, so wrapping it too would
 * count its statements twice.
 */
export function countStatements(pool: pg.Pool): StatementCounter {
  let count = 0;
  let traced: string[] | null = null;
  pool.on('connect', (client) => {
    const query = client.query as unknown as QueryFn;
    (client as unknown as { query: QueryFn }).query = function countedQuery(
      this: unknown,
      ...args: unknown[]
    ) {
      count += 1;
      if (traced && traced.length < TRACE_MAX_STATEMENTS) traced.push(statementText(args));
      return query.apply(this, args);
    };
  });
  return {
    get count() {
      return count;
    },
    reset() {
      count = 0;
    },
    trace(on) {
      traced = on ? [] : null;
    },
    get traced() {
      return traced ?? [];
    },
  };
}
