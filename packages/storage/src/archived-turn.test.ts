import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countStatements } from './__fixtures__/count-statements';
import { createSpaceFixture } from './__fixtures__/space-fixture';
import { PgSessionTree } from './pg-session-tree';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

describe('a turn on an archived session', () => {
  it('is refused from the session row alone: no slot or record is read, and one statement is spent', async () => {
    const { storage, spaceId } = await createSpaceFixture(database.pool, 'archived turn');
    const child = await storage.createChild((await storage.listSessions())[0]!.id, {
      label: 'child',
      systemPrompt: 'a long prompt',
      records: [
        { role: 'user', content: 'history one' },
        { role: 'assistant', content: 'history two' },
      ],
    });
    await new PgSessionTree(database.pool, spaceId).archive(child.id);
    const counter = countStatements(database.pool);
    const context = await storage.loadTurnContext(child.id, {
      maxRecords: 50,
      lease: { owner: 'turn-on-archived', ttlMs: 60_000 },
    });
    expect(counter.count).toBe(1);
    counter.stop();
    expect(context?.meta.status).toBe('archived');
    expect(context?.records).toEqual([]);
    expect(context?.systemPrompt).toBeNull();
    // Read without a lease (a plain read), the data is all there.
    const read = await storage.loadTurnContext(child.id, { maxRecords: 50 });
    expect(read?.records.map((record) => record.content)).toEqual(['history one', 'history two']);
  });
});
