import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { createStelloServer, type ListeningServer } from '@stello-ai/server';
import { createOfflineAdapter } from '@stello-ai/session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuickstart } from './quickstart';

describe('the client quick start', () => {
  let db: TestDatabase;
  let listening: ListeningServer;
  let baseUrl: string;
  let apiKey: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const server = await createStelloServer({
      pool: db.pool,
      agentPoolOptions: { model: createOfflineAdapter() },
    });
    ({ apiKey } = await server.userStore.createUser('quickstart'));
    listening = await server.listen(0);
    baseUrl = `http://127.0.0.1:${listening.port}`;
  });
  afterAll(async () => {
    await listening?.close();
    await db?.drop();
  });

  it('creates a space, streams a reply, forks a sub-topic and reads the tree on a real server', async () => {
    const lines: string[] = [];
    const result = await runQuickstart({ baseUrl, apiKey, print: (line) => lines.push(line) });

    expect(result.deltas.length).toBeGreaterThan(0);
    expect(result.deltas.join('')).toBe(result.reply);
    expect(result.childReply).not.toBe('');
    expect(result.tree).toMatchObject({ id: result.rootId, label: 'Trip to Lisbon' });
    expect(result.tree.children).toEqual([expect.objectContaining({ id: result.childId, label: 'Food' })]);
    expect(lines).toHaveLength(4);
  });

  it('fails with the server’s code for a wrong key', async () => {
    await expect(runQuickstart({ baseUrl, apiKey: 'stello_not-a-key' })).rejects.toMatchObject({
      code: 'INVALID_API_KEY',
    });
  });
});
