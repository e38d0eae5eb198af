import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ID = "'00000000-0000-4000-8000-000000000001'::uuid";
const OTHER_ID = "'00000000-0000-4000-8000-000000000002'::uuid";

/** The queries storage and the server run, with the index each must use (the README's map). */
const QUERY_INDEXES: [query: string, indexes: string[]][] = [
  [`SELECT * FROM users WHERE api_key_hash = 'abc'`, ['users_api_key_hash_key']],
  [`SELECT * FROM spaces WHERE id = ${ID}`, ['spaces_pkey']],
  [`SELECT * FROM spaces WHERE user_id = ${ID} ORDER BY created_at`, ['spaces_user_id_created_at_idx']],
  [
    `SELECT * FROM sessions WHERE id = ${ID} AND space_id = ${OTHER_ID}`,
    ['sessions_pkey', 'sessions_id_space_id_key'],
  ],
  [
    `SELECT * FROM sessions WHERE space_id = ${ID} ORDER BY depth, "index"`,
    ['sessions_space_id_depth_index_idx'],
  ],
  [
    `SELECT * FROM sessions WHERE space_id = ${ID} AND parent_id IS NULL`,
    ['sessions_one_root_per_space_idx', 'sessions_space_id_depth_index_idx'],
  ],
  [
    `SELECT * FROM sessions WHERE parent_id = ${ID} AND space_id = ${OTHER_ID} ORDER BY "index"`,
    ['sessions_parent_id_index_key'],
  ],
  [
    `SELECT * FROM records WHERE session_id = ${ID} AND space_id = ${OTHER_ID} ORDER BY id DESC LIMIT 20`,
    ['records_session_id_id_idx'],
  ],
  [
    `SELECT * FROM records WHERE session_id = ${ID} AND space_id = ${OTHER_ID} AND id > 42 ORDER BY id LIMIT 100`,
    ['records_session_id_id_idx'],
  ],
  [`SELECT * FROM session_data WHERE session_id = ${ID} AND key = 'memory'`, ['session_data_pkey']],
  [`SELECT * FROM session_refs WHERE from_id = ${ID}`, ['session_refs_pkey']],
  [`SELECT * FROM session_refs WHERE to_id = ${ID}`, ['session_refs_to_id_idx']],
  [`SELECT * FROM core_data WHERE space_id = ${ID} AND path = 'a.b'`, ['core_data_pkey']],
  [`SELECT * FROM core_data WHERE space_id = ${ID}`, ['core_data_pkey']],
];

interface PlanNode {
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function indexNames(node: PlanNode): string[] {
  return [...(node['Index Name'] ? [node['Index Name']] : []), ...(node.Plans ?? []).flatMap(indexNames)];
}

describe('2026_11_22_0001_initial_schema', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
    // Enough rows, and fresh statistics, for the planner to cost the big tables realistically.
    await database.pool.query(`
      INSERT INTO users (id, name) VALUES (${ID}, 'owner');
      INSERT INTO spaces (id, user_id, label) VALUES (${ID}, ${ID}, 'one'), (${OTHER_ID}, ${ID}, 'two');
      INSERT INTO sessions (id, space_id, label, role) VALUES (${ID}, ${OTHER_ID}, 'root', 'main');
      INSERT INTO sessions (space_id, parent_id, label, depth, "index")
        SELECT ${OTHER_ID}, ${ID}, 'child', 1, g FROM generate_series(0, 1999) AS g;
      INSERT INTO records (space_id, session_id, role, content)
        SELECT space_id, id, 'user', 'hello' FROM sessions, generate_series(1, 5);
    `);
    // The records triggers updated every session row: rewrite the table compactly, as it was
    // before those updates, so the plans do not depend on where the new row versions landed.
    await database.pool.query('VACUUM FULL ANALYZE sessions');
    await database.pool.query('ANALYZE');
  });
  afterAll(() => database?.drop());

  it.each(QUERY_INDEXES)(
    'serves %s with an index when the planner may not scan tables',
    async (query, expected) => {
      const client = await database.pool.connect();
      try {
        await client.query('BEGIN');
        // Small tables make sequential scans cheapest; forbid them so the plan shows which index fits.
        await client.query('SET LOCAL enable_seqscan = off');
        const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
          `EXPLAIN (FORMAT JSON) ${query}`,
        );
        const used = indexNames(rows[0]!['QUERY PLAN'][0].Plan);
        expect(
          used.some((name) => expected.includes(name)),
          `plan used ${JSON.stringify(used)}`,
        ).toBe(true);
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    },
  );
});
