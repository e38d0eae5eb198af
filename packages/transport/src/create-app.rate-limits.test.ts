import { KeyLimits } from '@stello-ai/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpace, rest } from './__fixtures__/rest-client';
import { createTestStack, type TestServer, type TestStack, type TestUser } from './__fixtures__/test-stack';
import { connectWs } from './__fixtures__/ws-test-client';

// Per-key limits in one process (the cross-process sync is tested in the server package):
// 429 RATE_LIMITED with Retry-After on REST, an error frame with retryAfterMs on the WebSocket.
describe('per-key rate limits', () => {
  let stack: TestStack;
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let space: { spaceId: string; rootId: string };
  let bobSpace: { spaceId: string; rootId: string };
  let carolSpace: { spaceId: string; rootId: string };
  const limits = new KeyLimits({ turnsPerMinute: 2, concurrentStreams: 1 });

  beforeAll(async () => {
    stack = await createTestStack({ keyLimits: limits });
    server = await stack.listen();
    alice = await stack.createUser('alice');
    bob = await stack.createUser('bob');
    space = await createSpace(stack.app, alice.apiKey, { label: 'Limited' });
    bobSpace = await createSpace(stack.app, bob.apiKey, { label: 'Other key' });
    carol = await stack.createUser('carol');
    carolSpace = await createSpace(stack.app, carol.apiKey, { label: 'Streams' });
  });
  afterAll(() => stack?.close());

  const turn = (key: string, where: { spaceId: string; rootId: string }) =>
    rest(stack.app, 'POST', `/spaces/${where.spaceId}/sessions/${where.rootId}/turn`, {
      key,
      json: { input: 'hello' },
    });

  it('answers 429 RATE_LIMITED with Retry-After past the turns per minute, for that key only', async () => {
    expect((await turn(alice.apiKey, space)).status).toBe(200);
    expect((await turn(alice.apiKey, space)).status).toBe(200);
    const refused = await turn(alice.apiKey, space);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'RATE_LIMITED', details: { limit: 'turns_per_minute' } });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.body.details.retryAfterMs).toBeLessThanOrEqual(retryAfter * 1000);
    expect(stack.logs.some((log) => log.event === 'rate.limited' && log.fields.userId === alice.userId)).toBe(
      true,
    );
    // Nothing of the refused turn was stored: two turns, four records.
    const messages = await rest(
      stack.app,
      'GET',
      `/spaces/${space.spaceId}/sessions/${space.rootId}/messages`,
      {
        key: alice.apiKey,
      },
    );
    expect(messages.body).toHaveLength(4);
    expect((await turn(bob.apiKey, bobSpace)).status).toBe(200);
  });

  it('refuses a stream past the streams at once (REST SSE and WebSocket), and frees the slot when it ends', async () => {
    const held = limits.openStream(carol.userId);
    expect(held.allowed).toBe(true);
    const sse = await rest(
      stack.app,
      'POST',
      `/spaces/${carolSpace.spaceId}/sessions/${carolSpace.rootId}/stream`,
      {
        key: carol.apiKey,
        json: { input: 'hello' },
      },
    );
    expect(sse.status).toBe(429);
    expect(sse.body).toMatchObject({ code: 'RATE_LIMITED', details: { limit: 'concurrent_streams' } });
    expect(Number(sse.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const client = await connectWs(`${server.wsUrl}/spaces/${carolSpace.spaceId}/ws`, {
      headers: { 'X-API-Key': carol.apiKey },
    });
    try {
      client.send({ type: 'session.enter', sessionId: carolSpace.rootId });
      await client.next('session.entered');
      client.send({ type: 'session.stream', input: 'hello' });
      const error = await client.next('error');
      expect(error).toMatchObject({ code: 'RATE_LIMITED', details: { limit: 'concurrent_streams' } });
      expect(error.details.retryAfterMs).toBeGreaterThan(0);

      if (held.allowed) held.release();
      client.send({ type: 'session.stream', input: 'hello' });
      await client.next('stream.end');
    } finally {
      await client.close();
    }
    // The WebSocket stream's slot was freed when its turn ended: a REST stream gets it now.
    const streamed = await stack.app.request(
      `/spaces/${carolSpace.spaceId}/sessions/${carolSpace.rootId}/stream`,
      {
        method: 'POST',
        headers: { 'x-api-key': carol.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ input: 'again' }),
      },
    );
    expect(streamed.status).toBe(200);
    expect(await streamed.text()).toContain('event: stream.end');
    expect(limits.openStream(carol.userId).allowed).toBe(true);
  });
});
