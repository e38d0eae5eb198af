import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { createOfflineAdapter } from '@stello-ai/session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createStelloServer } from './create-stello-server';

/** The value of one sample of the exposition text, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return 0;
}

describe('GET /metrics', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());

  it('serves Prometheus counters that move with traffic', async () => {
    const server = await createStelloServer({
      pool: db.pool,
      agentPoolOptions: { model: createOfflineAdapter(), minConsolidateEveryNTurns: 1 },
      limits: { turnsPerMinute: 4 },
    });
    const { apiKey } = await server.userStore.createUser('metrics');
    const { port, close } = await server.listen(0);
    const base = `http://127.0.0.1:${port}`;
    const headers = { 'x-api-key': apiKey, 'content-type': 'application/json' };
    try {
      const before = await (await fetch(`${base}/metrics`)).text();
      const space = (await (
        await fetch(`${base}/spaces`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ label: 'm', config: { consolidateEveryNTurns: 1 } }),
        })
      ).json()) as { id: string };
      const sessions = (await (
        await fetch(`${base}/spaces/${space.id}/sessions`, { headers })
      ).json()) as Array<{ id: string }>;
      // A child session: consolidation is for children (the root integrates them).
      const child = (await (
        await fetch(`${base}/spaces/${space.id}/sessions/${sessions[0]!.id}/fork`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ label: 'child' }),
        })
      ).json()) as { id: string };
      sessions[0] = child;
      for (let i = 0; i < 3; i++) {
        const turn = await fetch(`${base}/spaces/${space.id}/sessions/${sessions[0]!.id}/turn`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ input: `hello ${i}` }),
        });
        expect(turn.status).toBe(200);
      }
      const streamed = await fetch(`${base}/spaces/${space.id}/sessions/${sessions[0]!.id}/stream`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ input: 'stream it' }),
      });
      expect(await streamed.text()).toContain('stream.end');
      // The key's fifth turn this minute is over its limit.
      const refused = await fetch(`${base}/spaces/${space.id}/sessions/${sessions[0]!.id}/turn`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ input: 'one too many' }),
      });
      expect(refused.status).toBe(429);
      expect((await fetch(`${base}/spaces/not-a-uuid`, { headers })).status).toBe(400);
      // Consolidation runs in the background after each turn here: wait for the runs to show.
      const deadline = Date.now() + 5_000;
      while (
        sample(await (await fetch(`${base}/metrics`)).text(), 'stello_memory_work_runs_total', {
          phase: 'consolidate',
        }) === 0 &&
        Date.now() < deadline
      ) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const socket = new WebSocket(`ws://127.0.0.1:${port}/spaces/${space.id}/ws`, {
        headers: { 'X-API-Key': apiKey },
      });
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const during = await fetch(`${base}/metrics`);
      expect(during.headers.get('content-type')).toContain('text/plain');
      const after = await during.text();
      socket.close();

      const turnRoute = { route: '/spaces/:spaceId/sessions/:id/turn', status: '200' };
      expect(
        sample(after, 'stello_http_requests_total', turnRoute) -
          sample(before, 'stello_http_requests_total', turnRoute),
      ).toBe(3);
      expect(sample(after, 'stello_turns_total', { transport: 'rest', stream: 'false', outcome: 'ok' })).toBe(
        3,
      );
      expect(
        sample(after, 'stello_turn_duration_seconds_count', { transport: 'rest', stream: 'false' }),
      ).toBe(3);
      expect(sample(after, 'stello_http_requests_total', { status: '400' })).toBeGreaterThanOrEqual(1);
      expect(sample(after, 'stello_websockets_open')).toBe(1);
      expect(sample(after, 'stello_agents_cached')).toBe(1);
      expect(sample(after, 'stello_db_pool_connections', { state: 'total' })).toBeGreaterThan(0);
      expect(sample(after, 'stello_db_pool_connections', { state: 'idle' })).toBeGreaterThanOrEqual(0);
      // LLM time per call (3 turns + 1 stream + the consolidations), first deltas of the stream, tokens.
      expect(
        sample(after, 'stello_llm_call_duration_seconds_count', { stream: 'false' }),
      ).toBeGreaterThanOrEqual(3);
      expect(sample(after, 'stello_llm_call_duration_seconds_count', { stream: 'true' })).toBe(1);
      expect(sample(after, 'stello_llm_first_delta_seconds_count')).toBe(1);
      expect(sample(after, 'stello_llm_tokens_total', { direction: 'in' })).toBeGreaterThan(0);
      expect(sample(after, 'stello_llm_tokens_total', { direction: 'out' })).toBeGreaterThan(0);
      expect(sample(after, 'stello_turn_lease_wait_seconds_count')).toBe(4);
      expect(sample(after, 'stello_memory_work_runs_total', { phase: 'consolidate' })).toBeGreaterThan(0);
      expect(sample(after, 'stello_rate_limited_total', { limit: 'turns_per_minute' })).toBe(1);
      // The WebSocket and the scrape's own connection at least.
      expect(sample(after, 'stello_http_connections_open')).toBeGreaterThanOrEqual(2);
      // Never a raw path with ids in a label.
      expect(after).not.toContain(space.id);
    } finally {
      await close();
    }
  });

  it('can be turned off', async () => {
    const server = await createStelloServer({
      pool: db.pool,
      skipMigrate: true,
      agentPoolOptions: { model: createOfflineAdapter() },
      metrics: { enabled: false },
    });
    expect((await server.app.request('/metrics')).status).toBe(404);
  });
});
