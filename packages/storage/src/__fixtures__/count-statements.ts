import type pg from 'pg';

/** What `countStatements` observes; `count` and `statements` grow until `stop()`. */
export interface StatementCounter {
  /** Statements sent to PostgreSQL since the counter started (or was reset). */
  readonly count: number;
  /** Their SQL text, in order (handy in assertion messages). */
  readonly statements: readonly string[];
  /** Forgets what was counted so far. */
  reset(): void;
  /** Stops counting; later statements are not recorded. */
  stop(): void;
}

interface Recorder {
  record(text: string): void;
}

const WRAPPED = Symbol('stello.countStatements');
const recorders = new WeakMap<pg.Pool, Set<Recorder>>();

function sqlText(config: unknown): string {
  if (typeof config === 'string') return config;
  const text = (config as { text?: unknown } | null)?.text;
  return typeof text === 'string' ? text : '<unknown>';
}

/**
 * Counts the statements (round trips) that go through `pool` while the counter runs, for tests
 * that assert "one statement per turn". Every client the pool hands out gets its own `query`
 * wrapped once (on that instance only; `pg` itself is never patched), so statements issued by
 * Kysely over `createDb(pool)` and by raw `pool.query` are all seen.
 *
 * @example
 * ```ts
 * const counter = countStatements(db.pool);
 * await storage.commitTurn(id, commit);
 * expect(counter.count).toBe(1);
 * counter.stop();
 * ```
 */
export function countStatements(pool: pg.Pool): StatementCounter {
  let active = recorders.get(pool);
  if (!active) {
    const set = new Set<Recorder>();
    active = set;
    recorders.set(pool, set);
    pool.on('acquire', (client: pg.PoolClient & { [WRAPPED]?: true }) => {
      if (client[WRAPPED]) return;
      client[WRAPPED] = true;
      const original = client.query as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = function query(this: unknown, ...args: unknown[]) {
        for (const recorder of set) recorder.record(sqlText(args[0]));
        return original.apply(this, args);
      };
    });
  }
  const statements: string[] = [];
  const recorder: Recorder = { record: (text) => statements.push(text) };
  active.add(recorder);
  const set = active;
  return {
    get count() {
      return statements.length;
    },
    get statements() {
      return statements;
    },
    reset() {
      statements.length = 0;
    },
    stop() {
      set.delete(recorder);
    },
  };
}
