import { createUnreachablePool } from '@internal/testing';
import { AgentPool, PgStores, SpaceManager, UserStore } from '@stello-ai/runtime';
import { createOfflineAdapter } from '@stello-ai/session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpace, type RestResponse, rest } from './__fixtures__/rest-client';
import { createTestStack, type TestStack, type TestUser } from './__fixtures__/test-stack';
import { createApp } from './create-app';

function expectUnavailable(response: RestResponse): void {
  expect(response.status).toBe(503);
  expect(response.body).toEqual({ error: expect.any(String), code: 'UNAVAILABLE' });
  expect(response.text).not.toContain('127.0.0.1');
}

// Each app below has one part on a database that is down (nothing listens on its port) and the
// rest on the live stack, so the outage hits exactly one step of the request.
describe('createApp during a database outage', () => {
  let stack: TestStack;
  let alice: TestUser;
  let spaceId: string;
  let rootId: string;
  let down: ReturnType<typeof createUnreachablePool>;
  let dead: PgStores;

  beforeAll(async () => {
    stack = await createTestStack();
    alice = await stack.createUser('alice');
    ({ spaceId, rootId } = await createSpace(stack.app, alice.apiKey, { label: 'Outage' }));
    down = createUnreachablePool();
    dead = new PgStores(down);
  });
  afterAll(async () => {
    await stack?.close();
    await down?.end();
  });

  it('answers 503 UNAVAILABLE when the database fails inside a turn', async () => {
    const agentPool = new AgentPool(dead, { model: createOfflineAdapter() }, stack.spaceManager);
    try {
      const app = createApp({ ...appDeps(), agentPool });
      const response = await rest(app, 'POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, {
        key: alice.apiKey,
        json: { input: 'hello' },
      });
      expectUnavailable(response);
    } finally {
      agentPool.dispose();
    }
  });

  it('answers 503 UNAVAILABLE, like a turn, when the database fails during authentication', async () => {
    const app = createApp({ ...appDeps(), userStore: new UserStore(dead.users) });
    expectUnavailable(await rest(app, 'GET', '/spaces', { key: alice.apiKey }));
    expectUnavailable(await rest(app, 'GET', `/spaces/${spaceId}/sessions`, { key: alice.apiKey }));
  });

  it('answers 503 UNAVAILABLE, like a turn, when the database fails during the space lookup', async () => {
    const app = createApp({ ...appDeps(), spaceManager: new SpaceManager(dead.spaces) });
    expectUnavailable(await rest(app, 'GET', `/spaces/${spaceId}/sessions`, { key: alice.apiKey }));
    expectUnavailable(await rest(app, 'GET', '/spaces', { key: alice.apiKey }));
    expectUnavailable(await rest(app, 'POST', '/spaces', { key: alice.apiKey, json: { label: 'x' } }));
  });

  function appDeps() {
    return {
      spaceManager: stack.spaceManager,
      agentPool: stack.agentPool,
      userStore: stack.userStore,
      logger: stack.logger,
    };
  }
});
