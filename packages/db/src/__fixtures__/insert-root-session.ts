import type pg from 'pg';

/** Inserts a user, a space and its root session with plain SQL (for migration tests); the root's id. */
export async function insertRootSession(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(`
    WITH u AS (INSERT INTO users (name) VALUES ('owner') RETURNING id),
    s AS (INSERT INTO spaces (user_id, label) SELECT id, 'space' FROM u RETURNING id)
    INSERT INTO sessions (space_id, label, role) SELECT id, 'root', 'main' FROM s RETURNING id`);
  return rows[0]!.id;
}
