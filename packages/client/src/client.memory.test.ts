import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientStack, startClientStack } from './__fixtures__/client-stack';
import { rejectionOf } from './__fixtures__/turn-frames';
import { isStelloError } from './index';

// Memory work on demand through the client, REST and WebSocket, on a real server whose fake model
// answers consolidations with a summary and integrations with the JSON the default expects.

describe('StelloClient memory on demand', () => {
  let stack: ClientStack;
  let spaceId: string;
  let rootId: string;
  let childId: string;

  beforeAll(async () => {
    stack = await startClientStack({
      script: (request) => {
        const system = String(request.body.messages?.[0]?.content ?? '');
        if (system.includes('"synthesis"')) {
          const insights = [{ sessionId: childId, content: 'look at tides' }];
          return { content: JSON.stringify({ synthesis: 'the user studies the sea', insights }) };
        }
        if (request.body.messages?.some((m: { content?: string }) => m.content?.includes('waves'))) {
          return { content: 'summary: waves' };
        }
        return { content: 'ok' };
      },
    });
    const { client } = stack;
    spaceId = (await client.spaces.create({ label: 'Sea' })).id;
    rootId = (await client.sessions.list({ spaceId }))[0]?.id as string;
    childId = (await client.sessions.fork({ spaceId, sessionId: rootId }, { label: 'waves' })).id;
    await client.turns.send({ spaceId, sessionId: childId, input: 'tell me about waves' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('consolidates and integrates over REST', async () => {
    const { client } = stack;
    expect(await client.sessions.consolidate({ spaceId, sessionId: childId })).toEqual({
      sessionId: childId,
      memory: 'summary: waves',
    });
    expect(await client.sessions.getSlot({ spaceId, sessionId: childId, slot: 'memory' })).toBe(
      'summary: waves',
    );
    expect(await client.spaces.integrate({ spaceId })).toEqual({
      synthesis: 'the user studies the sea',
      insights: [{ sessionId: childId, content: 'look at tides' }],
    });
    const root = await rejectionOf(client.sessions.consolidate({ spaceId, sessionId: rootId }));
    expect(root).toMatchObject({ code: 'INVALID_OPERATION', status: 409 });
  });

  it('consolidates and integrates over WebSocket', async () => {
    const connection = await stack.client.connect(spaceId);
    try {
      const notEntered = await rejectionOf(connection.consolidate());
      expect(isStelloError(notEntered, 'NOT_ENTERED')).toBe(true);
      expect(await connection.consolidate({ sessionId: childId })).toEqual({
        sessionId: childId,
        memory: 'summary: waves',
      });
      await connection.enter(childId);
      expect(await connection.consolidate()).toMatchObject({ sessionId: childId });
      expect(await connection.integrate()).toMatchObject({ synthesis: 'the user studies the sea' });
    } finally {
      connection.close();
    }
  });
});
