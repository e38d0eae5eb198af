import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';
import type { DefaultTimestamp, FixedRef } from './columns';

/**
 * Table `rate_usage`: one process's use of one API key (its user) in one one-minute window, as
 * its background sync last wrote it. Primary key `(key_id, window_start, process_id)`.
 */
export interface RateUsageTable {
  /** The user whose key is counted (cascade on delete). */
  key_id: FixedRef;
  /** Start of the one-minute window. */
  window_start: ColumnType<Date, Date | string, never>;
  /** The writing process (a random id per server). */
  process_id: FixedRef;
  /** Turns the process admitted for the key in the window. */
  turns: ColumnType<number, number | undefined, number>;
  /** Streams the process had open for the key at `updated_at`. */
  streams: ColumnType<number, number | undefined, number>;
  updated_at: DefaultTimestamp;
}

/** A row of `rate_usage` as read. */
export type RateUsageRow = Selectable<RateUsageTable>;
/** A row of `rate_usage` to insert. */
export type NewRateUsageRow = Insertable<RateUsageTable>;
/** A partial update of a `rate_usage` row. */
export type RateUsageRowUpdate = Updateable<RateUsageTable>;
