import type pg from 'pg';
import { PgMainStorage } from '../pg-main-storage';
import { PgMemoryEngine } from '../pg-memory-engine';
import { PgSessionTree } from '../pg-session-tree';

/** A space created for a test: its owner, its id, its root, and the four adapters bound to it. */
export interface SpaceFixture {
  userId: string;
  spaceId: string;
  rootId: string;
  storage: PgMainStorage;
  sessions: PgSessionTree;
  memory: PgMemoryEngine;
}

/**
 * Creates a user and a space with plain SQL, then the space's root through `createRoot`, and
 * returns the adapters bound to the space. Each test makes its own space, so tests never see
 * each other's rows.
 */
export async function createSpaceFixture(pool: pg.Pool, label = 'test space'): Promise<SpaceFixture> {
  const { rows: users } = await pool.query<{ id: string }>(
    'INSERT INTO users (name) VALUES ($1) RETURNING id',
    [`owner of ${label}`],
  );
  const userId = users[0]!.id;
  const { rows: spaces } = await pool.query<{ id: string }>(
    'INSERT INTO spaces (user_id, label) VALUES ($1, $2) RETURNING id',
    [userId, label],
  );
  const spaceId = spaces[0]!.id;
  const sessions = new PgSessionTree(pool, spaceId);
  const root = await sessions.createRoot(label);
  return {
    userId,
    spaceId,
    rootId: root.id,
    storage: new PgMainStorage(pool, spaceId),
    sessions,
    memory: new PgMemoryEngine(pool, spaceId),
  };
}
