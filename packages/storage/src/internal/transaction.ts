import { createDb } from '@stello-ai/db';
import { sql } from 'kysely';
import type pg from 'pg';
import { translatePgError } from '../pg-errors';

/** SQLSTATE no_active_sql_transaction: SAVEPOINT outside a transaction block. */
const NO_ACTIVE_TRANSACTION = '25P01';

let savepointCounter = 0;

/** True for a checked-out `pg.PoolClient` (duck-typed, so another copy of `pg` works too). */
export function isPoolClient(client: pg.Pool | pg.PoolClient): client is pg.PoolClient {
  return typeof (client as Partial<pg.PoolClient>).release === 'function';
}

/**
 * Runs `fn` atomically on one connection and returns its result.
 *
 * - With a `pg.Pool`: checks out a client, `BEGIN`, runs `fn(client)`, `COMMIT` — or `ROLLBACK`
 *   and rethrow — and always releases the client (destroying it when the rollback itself failed).
 * - With a `pg.PoolClient`: the caller owns the connection and usually a transaction on it, so
 *   `fn` runs inside a `SAVEPOINT` (rolled back to on failure, released on success): nesting
 *   works and the caller's `COMMIT` stays in charge. When the client is not inside a transaction
 *   block, it opens one with `BEGIN`/`COMMIT` itself.
 *
 * Errors are rethrown through `translatePgError`.
 */
export async function runInTransaction<T>(
  client: pg.Pool | pg.PoolClient,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  if (isPoolClient(client)) return runInSavepoint(client, fn);
  let connection: pg.PoolClient;
  try {
    connection = await client.connect();
  } catch (error) {
    throw translatePgError(error);
  }
  const state = { broken: false };
  try {
    return await runInBlock(connection, fn, state);
  } finally {
    connection.release(state.broken);
  }
}

async function runInBlock<T>(
  connection: pg.PoolClient,
  fn: (client: pg.PoolClient) => Promise<T>,
  state: { broken: boolean },
): Promise<T> {
  const db = createDb(connection);
  try {
    await sql`BEGIN`.execute(db);
  } catch (error) {
    throw translatePgError(error);
  }
  try {
    const result = await fn(connection);
    await sql`COMMIT`.execute(db);
    return result;
  } catch (error) {
    const translated = translatePgError(error);
    try {
      await sql`ROLLBACK`.execute(db);
    } catch {
      // The connection is unusable (it died mid-transaction); the pool must not hand it out again.
      state.broken = true;
    }
    throw translated;
  }
}

async function runInSavepoint<T>(
  connection: pg.PoolClient,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const db = createDb(connection);
  savepointCounter += 1;
  const name = sql.id(`stello_sp_${savepointCounter}`);
  try {
    await sql`SAVEPOINT ${name}`.execute(db);
  } catch (error) {
    if ((error as { code?: unknown }).code === NO_ACTIVE_TRANSACTION)
      return runInBlock(connection, fn, { broken: false });
    throw translatePgError(error);
  }
  try {
    const result = await fn(connection);
    await sql`RELEASE SAVEPOINT ${name}`.execute(db);
    return result;
  } catch (error) {
    const translated = translatePgError(error);
    try {
      await sql`ROLLBACK TO SAVEPOINT ${name}`.execute(db);
      await sql`RELEASE SAVEPOINT ${name}`.execute(db);
    } catch {
      // The caller's transaction is already aborted or the connection is gone; its own ROLLBACK cleans up.
    }
    throw translated;
  }
}
