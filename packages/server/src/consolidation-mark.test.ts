import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EHarness, startHarness } from './__fixtures__/e2e-harness';

// Through @stello-ai/client. The "already consolidated" mark is stored with the memory: a space PATCH rebuilds the agent, and
// enter/leave cycles on an unchanged session must not pay for the consolidation again.

const CONSOLIDATION_MARKER = 'You maintain the memory of one conversation session.';

describe('the stored consolidation mark', () => {
  let db: TestDatabase;
  let h: E2EHarness;

  beforeAll(async () => {
    db = await createTestDatabase();
    h = await startHarness(db.pool);
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  const consolidationCalls = () =>
    h.fake.requests.filter((request) =>
      (request.body.messages ?? []).some(
        (message: { role: string; content?: string }) =>
          message.role === 'system' && message.content?.includes(CONSOLIDATION_MARKER),
      ),
    ).length;

  async function enterAndLeave(spaceId: string, sessionId: string): Promise<void> {
    const connection = await h.client.connect(spaceId);
    try {
      await connection.enter(sessionId);
      await connection.leave();
    } finally {
      connection.close();
    }
  }

  async function settled(spaceId: string): Promise<void> {
    // Background memory work ends within a few ms against the local fake; wait for the agent to be idle.
    const agent = await h.server.agentPool.getAgent(spaceId);
    await agent.idle();
  }

  it('costs one consolidation for an unchanged session across PATCHes and enter/leave cycles', async () => {
    const { client } = h;
    const spaceId = (await client.spaces.create({ label: 'Marks' })).id;
    const rootId = (await client.sessions.list({ spaceId }))[0]!.id;
    const childId = (await client.sessions.fork({ spaceId, sessionId: rootId }, { label: 'child' })).id;
    await client.turns.send({ spaceId, sessionId: childId, input: 'hello' });

    await enterAndLeave(spaceId, childId);
    await settled(spaceId);
    expect(consolidationCalls()).toBe(1);

    for (let cycle = 0; cycle < 3; cycle += 1) {
      // A PATCH rebuilds the space's agent: its in-memory marks are gone.
      await client.spaces.update({ spaceId }, { label: `Marks ${cycle}` });
      await enterAndLeave(spaceId, childId);
      await settled(spaceId);
    }
    expect(consolidationCalls()).toBe(1);

    // A new turn changes the session: the next leave consolidates again.
    await client.turns.send({ spaceId, sessionId: childId, input: 'more' });
    await enterAndLeave(spaceId, childId);
    await settled(spaceId);
    expect(consolidationCalls()).toBe(2);
  });
});
