import { describe, expect, it } from 'vitest';
import { DbError, isDbError, MigrationError } from './errors';

describe('isDbError', () => {
  it('recognises DbError and MigrationError by code when given one', () => {
    const dbError = new DbError('INVALID_OPTIONS', 'bad');
    const migrationError = new MigrationError('migration "x" failed: boom', {
      failedMigration: 'x',
      results: [],
    });
    expect(isDbError(dbError)).toBe(true);
    expect(isDbError(dbError, 'INVALID_OPTIONS')).toBe(true);
    expect(isDbError(dbError, 'MIGRATION_FAILED')).toBe(false);
    expect(isDbError(migrationError, 'MIGRATION_FAILED')).toBe(true);
    expect(migrationError.details.failedMigration).toBe('x');
  });

  it('recognises a copy from another bundle when only name and code match', () => {
    const foreign = Object.assign(new Error('bad'), { name: 'DbError', code: 'INVALID_OPTIONS' });
    expect(isDbError(foreign, 'INVALID_OPTIONS')).toBe(true);
  });

  it('rejects other errors and non-errors', () => {
    expect(isDbError(Object.assign(new Error('x'), { code: 'INVALID_OPTIONS' }))).toBe(false);
    expect(isDbError({ name: 'DbError', code: 'INVALID_OPTIONS' })).toBe(false);
    expect(isDbError(undefined)).toBe(false);
  });
});
