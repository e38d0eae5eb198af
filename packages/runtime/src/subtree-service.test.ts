import { createTestDatabase, expectCode, type TestDatabase } from '@internal/testing';
import { createOfflineAdapter } from '@stello-ai/session';
import { PgStores } from '@stello-ai/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertUser } from './__fixtures__/pool-probes';
import { AgentPool } from './agent-pool';
import type { SpaceEventInput } from './space-events';
import { SpaceManager } from './space-manager';
import { SubtreeService } from './subtree-service';

let db: TestDatabase;
let stores: PgStores;
let spaces: SpaceManager;
let agents: AgentPool;
const events: SpaceEventInput[] = [];
let subtrees: SubtreeService;

beforeAll(async () => {
  db = await createTestDatabase();
  stores = new PgStores(db.pool);
  spaces = new SpaceManager(stores.spaces);
  agents = new AgentPool(stores, { model: createOfflineAdapter() }, spaces);
  subtrees = new SubtreeService(stores, { publishEvent: (event) => events.push(event) });
});
afterAll(async () => {
  agents.dispose();
  await db.drop();
});

async function newSpace(label: string): Promise<{ spaceId: string; rootId: string }> {
  const space = await spaces.createSpace(await insertUser(db.pool, label), { label });
  const agent = await agents.getAgent(space.id);
  return { spaceId: space.id, rootId: (await agent.sessions.getRoot()).id };
}

describe('SubtreeService', () => {
  it('imports a copy the space agent reads and continues at once, and publishes session.created', async () => {
    const source = await newSpace('source');
    const sourceAgent = await agents.getAgent(source.spaceId);
    const branch = await sourceAgent.forkSession(source.rootId, { label: 'Branch' });
    await sourceAgent.turn(branch.id, 'first question');
    await sourceAgent.forkSession(branch.id, { label: 'Leaf' });
    const doc = await subtrees.exportSubtree(source.spaceId, branch.id);

    const target = await newSpace('target');
    const agent = await agents.getAgent(target.spaceId);
    // The target's agent has its tree and runtimes warm before the import.
    expect(await agent.sessions.listInfo()).toHaveLength(1);
    events.length = 0;
    const result = await subtrees.importSubtree(target.spaceId, doc);

    const copy = await agent.sessions.getInfo(result.rootId);
    expect(copy).toMatchObject({ label: 'Branch', parentId: target.rootId });
    expect(copy?.children).toEqual([result.idMap.s1]);
    expect(await agent.sessions.listInfo()).toHaveLength(3);
    // A turn on the copy sees the imported history and appends to it.
    await agent.turn(result.rootId, 'second question');
    const records = await agent.config.storage!.listRecords(result.rootId);
    expect(records.map((r) => r.content).slice(0, 1)).toEqual(['first question']);
    expect(records).toHaveLength(4);
    expect(events).toEqual([
      {
        kind: 'session.created',
        spaceId: target.spaceId,
        sessionId: result.rootId,
        data: { parentId: target.rootId },
      },
      {
        kind: 'session.created',
        spaceId: target.spaceId,
        sessionId: result.idMap.s1,
        data: { parentId: result.rootId },
      },
    ]);
  });

  it('archives a subtree: the agent refuses turns on its cached sessions afterwards, and session.archived is published', async () => {
    const space = await newSpace('archive');
    const agent = await agents.getAgent(space.spaceId);
    const branch = await agent.forkSession(space.rootId, { label: 'Branch' });
    const leaf = await agent.forkSession(branch.id, { label: 'Leaf' });
    // The leaf's runtime and history window are cached by this turn.
    await agent.turn(leaf.id, 'hello');
    events.length = 0;
    const result = await subtrees.archiveSubtree(space.spaceId, branch.id);
    expect(result.archivedIds).toEqual([branch.id, leaf.id]);
    expect((await agent.sessions.get(leaf.id))?.status).toBe('archived');
    await expectCode(agent.turn(leaf.id, 'again'), 'SESSION_ARCHIVED');
    await expectCode(agent.forkSession(branch.id, { label: 'x' }), 'SESSION_ARCHIVED');
    expect(events.map((event) => [event.kind, event.sessionId])).toEqual([
      ['session.archived', branch.id],
      ['session.archived', leaf.id],
    ]);
    await expectCode(subtrees.archiveSubtree(space.spaceId, space.rootId), 'INVALID_OPERATION');
  });

  it('applies its limits', async () => {
    const space = await newSpace('limits');
    const small = new SubtreeService(stores, { limits: { maxSessions: 1 } });
    const agent = await agents.getAgent(space.spaceId);
    await agent.forkSession(space.rootId, { label: 'Branch' });
    await expectCode(small.exportSubtree(space.spaceId), 'SUBTREE_TOO_LARGE');
    expect(() => new SubtreeService(stores, { limits: { maxRecords: -1 } })).toThrow(/maxRecords/);
  });
});
