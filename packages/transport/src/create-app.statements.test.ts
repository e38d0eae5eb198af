import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSpace, rest } from './__fixtures__/rest-client';
import { createTestStack, type TestStack, type TestUser } from './__fixtures__/test-stack';

describe('createApp', () => {
  let stack: TestStack;
  let alice: TestUser;
  let spaceId: string;
  let rootId: string;

  beforeAll(async () => {
    stack = await createTestStack();
    alice = await stack.createUser('alice');
    ({ spaceId, rootId } = await createSpace(stack.app, alice.apiKey, { label: 'Warm' }));
  });
  afterAll(() => stack?.close());

  /** Runs `action` and returns how many SQL statements the test database received meanwhile. */
  const countStatements = async (action: () => Promise<unknown>): Promise<number> => {
    // The real pg client class of the pool: a pass-through spy, nothing is faked.
    const client = (stack.db.pool as unknown as { Client: { prototype: { query: () => unknown } } }).Client;
    const spy = vi.spyOn(client.prototype, 'query');
    try {
      await action();
      return spy.mock.calls.length;
    } finally {
      spy.mockRestore();
    }
  };
  const restTurn = (input: string) =>
    rest(stack.app, 'POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, {
      key: alice.apiKey,
      json: { input },
    });

  it('runs a warm turn in two statements, auth included: one read, one atomic write', async () => {
    expect((await restTurn('warm up')).status).toBe(200);
    const agent = await stack.agentPool.getAgent(spaceId);
    const direct = await countStatements(() => agent.turn(rootId, 'direct'));
    const overRest = await countStatements(async () =>
      expect((await restTurn('over rest')).status).toBe(200),
    );
    expect(overRest).toBe(direct);
    expect(overRest).toBe(2);
  });

  it('costs at most two statements for a warm read of a session', async () => {
    await rest(stack.app, 'GET', `/spaces/${spaceId}/sessions/${rootId}`, { key: alice.apiKey });
    for (const path of ['', '/messages', '/system-prompt', '/memory']) {
      const statements = await countStatements(async () => {
        const response = await rest(stack.app, 'GET', `/spaces/${spaceId}/sessions/${rootId}${path}`, {
          key: alice.apiKey,
        });
        expect(response.status).toBe(200);
      });
      expect(statements, path).toBeLessThanOrEqual(2);
    }
  });

  it('checks key and space ownership without a query when warm', async () => {
    await rest(stack.app, 'GET', `/spaces/${spaceId}`, { key: alice.apiKey });
    const statements = await countStatements(() =>
      rest(stack.app, 'GET', `/spaces/${spaceId}`, { key: alice.apiKey }),
    );
    expect(statements).toBe(0);
  });
});
