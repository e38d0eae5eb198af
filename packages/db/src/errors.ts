import { CodedError } from '@stello-ai/errors';
import type { MigrationResult } from 'kysely/migration';

/** Stable codes of `DbError`. */
export type DbErrorCode =
  | 'INVALID_OPTIONS'
  | 'INT8_OUT_OF_RANGE'
  | 'MIGRATION_FAILED'
  /** `migrate()` met a `@stello-ai/server` v0.2.2 database: it needs `upgradeFromV022` once. */
  | 'V022_SCHEMA'
  /** `upgradeFromV022` met a database that does not hold the v0.2.2 schema. */
  | 'NOT_V022_SCHEMA'
  /** `upgradeFromV022` found rows that break an invariant; `details.offenses` lists them. */
  | 'UPGRADE_REFUSED';

/** Error of the database layer; identify it by `code` (see `isDbError`), not by class. */
export class DbError extends CodedError<DbErrorCode> {
  constructor(
    code: DbErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(code, message, options);
    this.name = 'DbError';
  }
}

/** Per-migration outcome attached to a `MigrationError`. */
export interface MigrationErrorDetails extends Record<string, unknown> {
  /** Name of the migration that failed, when Kysely reports one. */
  failedMigration: string | null;
  /** Kysely's result for every migration it considered, in order. */
  results: readonly MigrationResult[];
}

/**
 * Thrown by `migrate()` when a migration (or the ledger bookkeeping around it) fails.
 *
 * Its `code` is always `MIGRATION_FAILED`; `cause` is the underlying database error and `details`
 * lists what happened to each migration. Pending migrations run in one transaction, so after a
 * failure none of them is applied, including those reported as `Success`.
 */
export class MigrationError extends DbError {
  declare readonly details: MigrationErrorDetails;

  constructor(message: string, details: MigrationErrorDetails, cause?: unknown) {
    super('MIGRATION_FAILED', message, { cause, details });
    this.name = 'MigrationError';
  }
}

/**
 * True when `error` is a database-layer error (and has `code`, when given).
 *
 * It checks the `name` and `code` rather than `instanceof`, so a copy of this package bundled
 * elsewhere is still recognised.
 */
export function isDbError(error: unknown, code?: DbErrorCode): error is DbError {
  if (!(error instanceof Error)) return false;
  if (error.name !== 'DbError' && error.name !== 'MigrationError') return false;
  const actual = (error as { code?: unknown }).code;
  return typeof actual === 'string' && (code === undefined || actual === code);
}
