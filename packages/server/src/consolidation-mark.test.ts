import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EHarness, startHarness, WsTestClient } from './__fixtures__/e2e-harness';

// The "already consolidated" mark is stored with the memory: a space PATCH rebuilds the agent, and
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
    const ws = await WsTestClient.connect(h.wsUrl(spaceId), h.apiKey);
    try {
      ws.send({ type: 'session.enter', sessionId });
      await ws.expect('session.entered');
      ws.send({ type: 'session.leave' });
      await ws.expect('session.left');
    } finally {
      await ws.close();
    }
  }

  async function settled(spaceId: string): Promise<void> {
    // Background memory work ends within a few ms against the local fake; wait for the agent to be idle.
    const agent = await h.server.agentPool.getAgent(spaceId);
    await agent.idle();
  }

  it('costs one consolidation for an unchanged session across PATCHes and enter/leave cycles', async () => {
    const spaceId = (await h.api('POST', '/spaces', { label: 'Marks' })).body.id;
    const rootId = (await h.api('GET', `/spaces/${spaceId}/sessions`)).body[0].id;
    const childId = (await h.api('POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, { label: 'child' }))
      .body.id;
    expect(
      (await h.api('POST', `/spaces/${spaceId}/sessions/${childId}/turn`, { input: 'hello' })).status,
    ).toBe(200);

    await enterAndLeave(spaceId, childId);
    await settled(spaceId);
    expect(consolidationCalls()).toBe(1);

    for (let cycle = 0; cycle < 3; cycle += 1) {
      // A PATCH rebuilds the space's agent: its in-memory marks are gone.
      expect((await h.api('PATCH', `/spaces/${spaceId}`, { label: `Marks ${cycle}` })).status).toBe(200);
      await enterAndLeave(spaceId, childId);
      await settled(spaceId);
    }
    expect(consolidationCalls()).toBe(1);

    // A new turn changes the session: the next leave consolidates again.
    expect(
      (await h.api('POST', `/spaces/${spaceId}/sessions/${childId}/turn`, { input: 'more' })).status,
    ).toBe(200);
    await enterAndLeave(spaceId, childId);
    await settled(spaceId);
    expect(consolidationCalls()).toBe(2);
  });
});
