import type pg from 'pg';

/**
 * The schema of `@stello-ai/server` v0.2.2 (its `001_init.sql` and `002`), written from the
 * reference's table and column list: what an app's existing database holds before the upgrade.
 */
export const V022_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS users (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  api_key TEXT NOT NULL UNIQUE,
  name TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS spaces (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  label TEXT NOT NULL,
  system_prompt TEXT,
  consolidate_prompt TEXT,
  config JSONB NOT NULL DEFAULT '{}',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS sessions (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  space_id UUID NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
  parent_id UUID REFERENCES sessions(id) ON DELETE SET NULL,
  label TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT 'standard',
  status TEXT NOT NULL DEFAULT 'active',
  scope TEXT,
  depth INT NOT NULL DEFAULT 0,
  "index" INT NOT NULL DEFAULT 0,
  turn_count INT NOT NULL DEFAULT 0,
  tags TEXT[] NOT NULL DEFAULT '{}',
  metadata JSONB NOT NULL DEFAULT '{}',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_active_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_sessions_space ON sessions(space_id);
CREATE INDEX IF NOT EXISTS idx_sessions_parent ON sessions(parent_id);
CREATE TABLE IF NOT EXISTS records (
  id BIGSERIAL PRIMARY KEY,
  session_id UUID NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  role TEXT NOT NULL,
  content TEXT NOT NULL DEFAULT '',
  tool_call_id TEXT,
  "timestamp" TIMESTAMPTZ NOT NULL DEFAULT now(),
  metadata JSONB
);
CREATE INDEX IF NOT EXISTS idx_records_session ON records(session_id);
CREATE TABLE IF NOT EXISTS session_data (
  session_id UUID NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  content TEXT NOT NULL DEFAULT '',
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (session_id, key)
);
CREATE TABLE IF NOT EXISTS session_refs (
  from_id UUID NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  to_id UUID NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  PRIMARY KEY (from_id, to_id)
);
CREATE TABLE IF NOT EXISTS core_data (
  space_id UUID NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  value JSONB,
  PRIMARY KEY (space_id, path)
);
ALTER TABLE spaces ADD COLUMN IF NOT EXISTS integrate_prompt TEXT;
`;

/** Creates the v0.2.2 schema on an empty database. */
export async function createV022Schema(pool: pg.Pool): Promise<void> {
  await pool.query(V022_SCHEMA_SQL);
}

/** Inserts a user as the original README told (plaintext key); returns its id. */
export async function insertV022User(pool: pg.Pool, apiKey: string, name: string | null): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    'INSERT INTO users (api_key, name) VALUES ($1, $2) RETURNING id',
    [apiKey, name],
  );
  return rows[0]!.id;
}

/** Inserts a space and its root as the original `createSpace` did; returns both ids. */
export async function insertV022Space(
  pool: pg.Pool,
  userId: string,
  label: string,
  systemPrompt: string | null = null,
): Promise<{ spaceId: string; rootId: string }> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO spaces (user_id, label, system_prompt, integrate_prompt) VALUES ($1, $2, $3, 'Integrate.') RETURNING id`,
    [userId, label, systemPrompt],
  );
  const spaceId = rows[0]!.id;
  const rootId = await insertV022Session(pool, spaceId, null, label, { role: 'main' });
  if (systemPrompt) {
    await pool.query(`INSERT INTO session_data (session_id, key, content) VALUES ($1, 'system_prompt', $2)`, [
      rootId,
      systemPrompt,
    ]);
  }
  return { spaceId, rootId };
}

/** Inserts a sessions row the way one of the original code paths wrote it; returns its id. */
export async function insertV022Session(
  pool: pg.Pool,
  spaceId: string,
  parentId: string | null,
  label: string,
  fields: {
    role?: string;
    depth?: number;
    index?: number;
    metadata?: Record<string, unknown>;
    turnCount?: number;
  } = {},
): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO sessions (space_id, parent_id, label, role, depth, "index", metadata, turn_count)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    [
      spaceId,
      parentId,
      label,
      fields.role ?? 'standard',
      fields.depth ?? (parentId === null ? 0 : 1),
      fields.index ?? 0,
      JSON.stringify(fields.metadata ?? {}),
      fields.turnCount ?? 0,
    ],
  );
  return rows[0]!.id;
}
