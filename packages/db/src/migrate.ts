import type { Kysely, Transaction } from 'kysely';
import { type Migration, type MigrationProvider, type MigrationResult, Migrator } from 'kysely/migration';
import type pg from 'pg';
import { createDb } from './create-db';
import { DbError, MigrationError } from './errors';
import { MIGRATIONS } from './migrations';
import { detectSchema } from './upgrade-v022/detect-v022';

/** Ledger of applied migrations; named after the product so a host app's own Kysely ledger is untouched. */
export const MIGRATION_TABLE = 'stello_migration';

/** Lock table Kysely's Migrator keeps next to the ledger. */
export const MIGRATION_LOCK_TABLE = 'stello_migration_lock';

/**
 * Brings the database schema up to date, applying every migration not yet in the ledger.
 *
 * It runs Kysely's `Migrator`: on PostgreSQL it holds a session-level advisory lock while it works,
 * so two processes starting at once are safe (the second waits, then finds nothing to do), and it
 * applies all pending migrations in one transaction, so a failure leaves the schema as it was.
 * The ledger is the table `stello_migration`. Running it again is a no-op. The pool is borrowed,
 * not ended. Resolves to the names of the migrations this call applied (`[]` when none was pending).
 *
 * @throws MigrationError `MIGRATION_FAILED` when a migration or the ledger fails; `details.results`
 * tells which migrations ran, failed or were skipped
 * @throws DbError `V022_SCHEMA` on a `@stello-ai/server` v0.2.2 database (upgrade it once with
 * `stello migrate --from-v0.2.2`, i.e. `upgradeFromV022`); nothing is changed
 * @example
 * ```ts
 * const pool = createPool({ connectionString: process.env.DATABASE_URL! });
 * await migrate(pool);
 * ```
 */
export async function migrate(pool: pg.Pool): Promise<string[]> {
  await refuseV022(pool);
  const results = await runMigrations(pool, MIGRATIONS);
  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

/** A v0.2.2 database would fail on "relation users already exists": say what to do instead. */
async function refuseV022(pool: pg.Pool): Promise<void> {
  const db = createDb(pool);
  try {
    if ((await detectSchema(db)) === 'v0.2.2') {
      throw new DbError(
        'V022_SCHEMA',
        'the database holds a @stello-ai/server v0.2.2 schema: upgrade it once with `stello migrate --from-v0.2.2`',
      );
    }
  } finally {
    await db.destroy();
  }
}

/**
 * Runs the given migrations with the same ledger and error handling as `migrate`.
 *
 * @internal Exposed to the package's tests only, to exercise failures with a broken migration.
 */
export async function runMigrations(
  pool: pg.Pool,
  migrations: Readonly<Record<string, Migration>>,
): Promise<readonly MigrationResult[]> {
  const db = createDb(pool);
  try {
    return await migrateToLatest(db, migrations);
  } finally {
    await db.destroy();
  }
}

/**
 * Applies every pending migration inside the caller's transaction `trx` (the ledger and its lock
 * included), so the caller's other writes and the schema change commit or roll back together.
 * Used by the v0.2.2 upgrade. Throws like `migrate`.
 */
export async function migrateWithin(
  // biome-ignore lint/suspicious/noExplicitAny: the upgrade runs before today's schema exists
  trx: Transaction<any>,
): Promise<string[]> {
  const results = await migrateToLatest(trx, MIGRATIONS);
  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

async function migrateToLatest(
  // biome-ignore lint/suspicious/noExplicitAny: migrations see no schema types
  db: Kysely<any>,
  migrations: Readonly<Record<string, Migration>>,
): Promise<readonly MigrationResult[]> {
  const provider: MigrationProvider = { getMigrations: async () => ({ ...migrations }) };
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  // Kysely never throws from migrateToLatest: it reports failures in the result set.
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((result) => result.status === 'Error');
    const reason = error instanceof Error ? error.message : String(error);
    const message = failed
      ? `migration "${failed.migrationName}" failed: ${reason}`
      : `migrating the database failed: ${reason}`;
    throw new MigrationError(message, { failedMigration: failed?.migrationName ?? null, results }, error);
  }
  return results;
}
