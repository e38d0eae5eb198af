import { PgStores } from '@stello-ai/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EHarness, WsTestClient } from './__fixtures__/e2e-harness';
import { startTwoServers, type TwoServers } from './__fixtures__/two-servers';

// Two servers on one database, each with its own pool, as two processes would be: one key's
// turns and streams are counted across both (the background sync runs every 100 ms here).
const SYNC_MS = 100;
const LIMITS = { turnsPerMinute: 4, streamsPerKey: 1, rateLimitSyncIntervalMs: SYNC_MS };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for a fresh one-minute window when the current one is about to end (the budgets reset then). */
async function awayFromWindowEnd(neededMs: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < neededMs) await sleep(left + 50);
}

describe('per-key rate limits across two servers', () => {
  let servers: TwoServers;
  let a: E2EHarness;
  let b: E2EHarness;

  beforeAll(async () => {
    // Server A streams slowly (about 1 s per answer), so a stream stays open while B is asked.
    servers = await startTwoServers({
      a: { fake: { chunkCount: 20, chunkDelayMs: 50 }, server: { limits: LIMITS, controlChannel: false } },
      b: { server: { limits: LIMITS, controlChannel: false } },
    });
    ({ a, b } = servers);
  });

  afterAll(async () => {
    await servers?.close();
  });

  async function newKeyWithSpace(): Promise<{
    apiKey: string;
    userId: string;
    spaceId: string;
    rootId: string;
  }> {
    const { user, apiKey } = await a.server.userStore.createUser('limited');
    const created = await a.api('POST', '/spaces', { label: 'limited' }, apiKey);
    expect(created.status).toBe(201);
    const sessions = await a.api('GET', `/spaces/${created.body.id}/sessions`, undefined, apiKey);
    return { apiKey, userId: user.id, spaceId: created.body.id, rootId: sessions.body[0].id };
  }

  async function turn(h: E2EHarness, key: { apiKey: string; spaceId: string; rootId: string }) {
    const response = await fetch(`${h.baseUrl}/spaces/${key.spaceId}/sessions/${key.rootId}/turn`, {
      method: 'POST',
      headers: { 'X-API-Key': key.apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ input: 'hello' }),
    });
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body: await response.json(),
    };
  }

  it("answers 429 with Retry-After once the key's turns on both servers pass its limit", async () => {
    await awayFromWindowEnd(6_000);
    const key = await newKeyWithSpace();
    expect((await turn(a, key)).status).toBe(200);
    expect((await turn(a, key)).status).toBe(200);
    await sleep(SYNC_MS * 4);
    // B admitted nothing yet: only A's use, learnt through PostgreSQL, brings it to the limit.
    expect((await turn(b, key)).status).toBe(200);
    expect((await turn(b, key)).status).toBe(200);
    const refused = await turn(b, key);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'RATE_LIMITED', details: { limit: 'turns_per_minute' } });
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    await sleep(SYNC_MS * 4);
    const onA = await turn(a, key);
    expect(onA.status).toBe(429);
    expect(onA.retryAfter).not.toBeNull();
  });

  it('applies a limit set on the key in the database (the CLI) on every server', async () => {
    await awayFromWindowEnd(6_000);
    const key = await newKeyWithSpace();
    await new PgStores(servers.poolA).rateLimits.setKeyLimits(key.userId, { turnsPerMinute: 1 });
    await sleep(SYNC_MS * 4);
    expect((await turn(a, key)).status).toBe(200);
    await sleep(SYNC_MS * 4);
    const refused = await turn(b, key);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).not.toBeNull();
  });

  it("refuses a stream on one server while the key's only stream runs on the other", async () => {
    await awayFromWindowEnd(6_000);
    const key = await newKeyWithSpace();
    const client = await WsTestClient.connect(a.wsUrl(key.spaceId), key.apiKey);
    try {
      client.send({ type: 'session.enter', sessionId: key.rootId });
      await client.expect('session.entered');
      const streamed = client.stream('a long answer');
      await sleep(SYNC_MS * 4);
      const response = await fetch(`${b.baseUrl}/spaces/${key.spaceId}/sessions/${key.rootId}/stream`, {
        method: 'POST',
        headers: { 'X-API-Key': key.apiKey, 'Content-Type': 'application/json' },
        body: JSON.stringify({ input: 'hello' }),
      });
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(await response.json()).toMatchObject({
        code: 'RATE_LIMITED',
        details: { limit: 'concurrent_streams' },
      });
      await streamed;
    } finally {
      await client.close();
    }
    // Once A's stream ended and A synced, B admits a stream of the key.
    await sleep(SYNC_MS * 4);
    const after = await fetch(`${b.baseUrl}/spaces/${key.spaceId}/sessions/${key.rootId}/stream`, {
      method: 'POST',
      headers: { 'X-API-Key': key.apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ input: 'hello' }),
    });
    expect(after.status).toBe(200);
    expect(await after.text()).toContain('event: stream.end');
  });
});
