import type { Migration } from 'kysely/migration';
import * as m0001 from './2026_11_22_0001_initial_schema';
import * as m0002 from './2026_11_22_0002_turn_lease';
import * as m0003 from './2026_11_22_0003_records_revision';
import * as m0004 from './2026_12_04_0004_turn_ledger';
import * as m0005 from './2026_12_04_0005_session_usage';
import * as m0006 from './2026_12_04_0006_rate_limits';

/**
 * Every migration of the schema, by name, in the order they run.
 *
 * Imported statically (no directory scan), so a bundled build carries its migrations. A new
 * migration is a new `YYYY_MM_DD_NNNN_verb_noun.ts` file registered here, after the last one;
 * applied migrations are never edited.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '2026_11_22_0001_initial_schema': m0001,
  '2026_11_22_0002_turn_lease': m0002,
  '2026_11_22_0003_records_revision': m0003,
  '2026_12_04_0004_turn_ledger': m0004,
  '2026_12_04_0005_session_usage': m0005,
  '2026_12_04_0006_rate_limits': m0006,
});
