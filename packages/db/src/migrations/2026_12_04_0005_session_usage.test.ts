import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRootSession } from '../__fixtures__/insert-root-session';

describe('2026_12_04_0005_session_usage', () => {
  let database: TestDatabase;
  let rootId: string;

  const storedBytes = async (): Promise<number> => {
    const { rows } = await database.pool.query<{ stored_bytes: number }>(
      'SELECT stored_bytes FROM sessions WHERE id = $1',
      [rootId],
    );
    return Number(rows[0]!.stored_bytes);
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    rootId = await insertRootSession(database.pool);
  });
  afterAll(() => database?.drop());

  it('counts the bytes of inserted records, in UTF-8, tool calls included', async () => {
    expect(await storedBytes()).toBe(0);
    await database.pool.query(
      `INSERT INTO records (space_id, session_id, role, content)
       SELECT space_id, id, 'user', unnest(ARRAY['hello', '你好']) FROM sessions WHERE id = $1`,
      [rootId],
    );
    expect(await storedBytes()).toBe(5 + 6);
    const toolCalls = [{ id: 'c1', name: 'f', input: {} }];
    await database.pool.query(
      `INSERT INTO records (space_id, session_id, role, content, tool_calls)
       SELECT space_id, id, 'assistant', '', $2::jsonb FROM sessions WHERE id = $1`,
      [rootId, JSON.stringify(toolCalls)],
    );
    const { rows } = await database.pool.query<{ n: number }>('SELECT octet_length($1::jsonb::text) AS n', [
      JSON.stringify(toolCalls),
    ]);
    expect(await storedBytes()).toBe(11 + rows[0]!.n);
  });

  it('subtracts deleted records', async () => {
    await database.pool.query(`DELETE FROM records WHERE session_id = $1 AND role <> 'user'`, [rootId]);
    expect(await storedBytes()).toBe(11);
    await database.pool.query('DELETE FROM records WHERE session_id = $1', [rootId]);
    expect(await storedBytes()).toBe(0);
  });

  it('starts without a consolidation mark', async () => {
    const { rows } = await database.pool.query('SELECT consolidated_turn_count FROM sessions WHERE id = $1', [
      rootId,
    ]);
    expect(rows[0]).toEqual({ consolidated_turn_count: null });
  });
});
