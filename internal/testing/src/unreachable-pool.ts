import { createPool } from '@stello-ai/db';
import type pg from 'pg';

/**
 * A pool whose server is down: nothing listens on port 1, so every connection is refused at
 * once (ECONNREFUSED), as during a PostgreSQL outage. End it after the test.
 */
export function createUnreachablePool(): pg.Pool {
  return createPool({ connectionString: 'postgres://stello@127.0.0.1:1/stello' });
}
