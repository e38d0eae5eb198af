import { createDb } from '@stello-ai/db';
import { sql } from 'kysely';
import type pg from 'pg';
import { OWNER_DIED_ERROR, ownerDeadSql } from './internal/turns-sql';

/** How long finished turns stay readable (status, retries) before the sweep deletes them. */
export const DEFAULT_TURN_RETENTION_MS = 24 * 60 * 60_000;
/** Shortest and longest pause between two sweeps (jittered, so processes do not sweep in step). */
const SWEEP_MIN_MS = 30_000;
const SWEEP_MAX_MS = 60_000;

/** What one sweep did. */
export interface TurnSweepResult {
  /** Queued or running turns of dead processes, now `failed`. */
  failed: number;
  /** Finished turns older than the retention, deleted. */
  deleted: number;
}

/**
 * Sweeps the turn ledger of every space, in two statements: queued or running turns whose process
 * is dead (its control-channel lock is gone) become `failed`, and finished turns older than
 * `retentionMs` are deleted. Status reads already report a dead process's turns as failed; the
 * sweep makes it durable. Turns without an owner instance (no control channel) are left alone.
 */
export async function sweepTurns(
  pool: pg.Pool,
  retentionMs: number = DEFAULT_TURN_RETENTION_MS,
): Promise<TurnSweepResult> {
  const db = createDb(pool);
  const failed = await sql`
    UPDATE turns t SET status = 'failed', error = ${JSON.stringify(OWNER_DIED_ERROR)}::jsonb, finished_at = now()
    WHERE t.status IN ('queued', 'running') AND ${ownerDeadSql('t')}`.execute(db);
  const deleted = await sql`
    DELETE FROM turns WHERE finished_at < now() - ${retentionMs}::int * interval '1 millisecond'`.execute(db);
  return { failed: Number(failed.numAffectedRows ?? 0), deleted: Number(deleted.numAffectedRows ?? 0) };
}

/** Options of {@link TurnSweeper}. */
export interface TurnSweeperOptions {
  retentionMs?: number;
  /** Receives a sweep that failed (the next one runs as planned). */
  onError?: (error: unknown) => void;
}

/** Runs {@link sweepTurns} at start, then every 30–60 s (jittered); the timer never keeps the process alive. */
export class TurnSweeper {
  readonly #pool: pg.Pool;
  readonly #options: TurnSweeperOptions;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(pool: pg.Pool, options: TurnSweeperOptions = {}) {
    this.#pool = pool;
    this.#options = options;
  }

  /** Sweeps now and schedules the next sweeps. */
  start(): void {
    this.#stopped = false;
    void this.#sweep();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #sweep(): Promise<void> {
    try {
      await sweepTurns(this.#pool, this.#options.retentionMs);
    } catch (error) {
      this.#options.onError?.(error);
    }
    if (this.#stopped) return;
    this.#timer = setTimeout(
      () => void this.#sweep(),
      SWEEP_MIN_MS + Math.random() * (SWEEP_MAX_MS - SWEEP_MIN_MS),
    );
    this.#timer.unref();
  }
}
