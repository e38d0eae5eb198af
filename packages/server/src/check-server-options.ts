import { StelloServerError } from './errors';
import {
  DEFAULT_MEMORY_DRAIN_TIMEOUT_MS,
  DEFAULT_TURN_DRAIN_TIMEOUT_MS,
  type StelloServerOptions,
} from './server-options';

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new StelloServerError(
      'INVALID_OPTIONS',
      `${name} must be a non-negative number, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Checks the options `createStelloServer` cannot start without, and resolves the shutdown bounds.
 * @throws StelloServerError `INVALID_OPTIONS`
 */
export function checkServerOptions(options: StelloServerOptions): {
  turnTimeoutMs: number;
  memoryTimeoutMs: number;
} {
  const { pool } = options;
  if (pool === null || typeof pool !== 'object' || typeof pool.query !== 'function') {
    throw new StelloServerError('INVALID_OPTIONS', 'pool must be a pg.Pool');
  }
  if (options.agentPoolOptions === null || typeof options.agentPoolOptions !== 'object') {
    throw new StelloServerError('INVALID_OPTIONS', 'agentPoolOptions must be an object');
  }
  for (const name of ['turnsPerMinute', 'streamsPerKey', 'rateLimitSyncIntervalMs'] as const) {
    const value = options.limits?.[name];
    if (
      value !== undefined &&
      (!Number.isInteger(value) || value < (name === 'rateLimitSyncIntervalMs' ? 1 : 0))
    ) {
      throw new StelloServerError(
        'INVALID_OPTIONS',
        `limits.${name} must be a non-negative integer, got ${String(value)}`,
      );
    }
  }
  return {
    turnTimeoutMs: nonNegative(
      options.shutdown?.turnTimeoutMs,
      DEFAULT_TURN_DRAIN_TIMEOUT_MS,
      'shutdown.turnTimeoutMs',
    ),
    memoryTimeoutMs: nonNegative(
      options.shutdown?.memoryTimeoutMs,
      DEFAULT_MEMORY_DRAIN_TIMEOUT_MS,
      'shutdown.memoryTimeoutMs',
    ),
  };
}
