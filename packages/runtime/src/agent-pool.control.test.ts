import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@internal/testing';
import type { LLMAdapter } from '@stello-ai/session';
import { InMemoryControlBus, PgStores } from '@stello-ai/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertUser } from './__fixtures__/pool-probes';
import { AgentPool } from './agent-pool';
import { SpaceManager } from './space-manager';

let db: TestDatabase;
let stores: PgStores;
let spaces: SpaceManager;
let userId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  stores = new PgStores(db.pool);
  spaces = new SpaceManager(stores.spaces);
  userId = await insertUser(db.pool, 'control');
});
afterAll(() => db.drop());

/** A model that answers only when its call is aborted (it then rejects), and says when it was called. */
function stuckModel() {
  let called!: () => void;
  const started = new Promise<void>((resolve) => {
    called = resolve;
  });
  const llm: LLMAdapter = {
    model: 'stuck',
    maxContextTokens: 100_000,
    complete: (_messages, options) =>
      new Promise((_, reject) => {
        called();
        options?.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true });
      }),
  };
  return { llm, started };
}

describe('AgentPool control events', () => {
  it('aborts a turn of the space when a turn.cancel event names it, and ignores other events', async () => {
    const bus = new InMemoryControlBus();
    const control = bus.channel();
    await control.start();
    const { llm, started } = stuckModel();
    const pool = new AgentPool(stores, { model: llm, control }, spaces);
    try {
      const space = await spaces.createSpace(userId, { label: 'Space' });
      const agent = await pool.getAgent(space.id);
      const root = await agent.sessions.getRoot();
      const turnId = randomUUID();
      const turn = agent.turn(root.id, 'hello', { turnId }).catch((error: unknown) => error);
      await started;

      expect(pool.routeControlEvent({ kind: 'turn.cancel', spaceId: randomUUID(), turnId })).toBe(false);
      expect(pool.routeControlEvent({ kind: 'space.updated', spaceId: space.id, turnId })).toBe(false);
      await control.publish({ kind: 'turn.cancel', spaceId: space.id, turnId });
      expect(await turn).toMatchObject({ code: 'TURN_CANCELLED' });
      expect(await stores.forSpace(space.id).sessions.listRecords(root.id)).toEqual([]);
    } finally {
      pool.dispose();
      await control.close();
    }
  });

  it('applies a space config concurrency of reject to its agent', async () => {
    const { llm, started } = stuckModel();
    const pool = new AgentPool(stores, { model: llm }, spaces);
    try {
      const space = await spaces.createSpace(userId, { label: 'Strict', config: { concurrency: 'reject' } });
      const agent = await pool.getAgent(space.id);
      expect(agent.config.orchestration?.concurrency).toBe('reject');
      const root = await agent.sessions.getRoot();
      const running = randomUUID();
      const first = agent.turn(root.id, 'first', { turnId: running }).catch((error: unknown) => error);
      await started;
      await expect(agent.turn(root.id, 'second')).rejects.toMatchObject({
        code: 'SESSION_BUSY',
        details: { turnId: running },
      });
      await agent.cancelTurn(root.id, running);
      expect(await first).toMatchObject({ code: 'TURN_CANCELLED' });
    } finally {
      pool.dispose();
    }
  });
});
