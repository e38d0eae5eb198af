import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  createTestDatabase,
  type FakeLLMServer,
  startFakeOpenAI,
  type TestDatabase,
} from '@internal/testing';
import { createOpenAICompatibleAdapter } from '@stello-ai/session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServeChild } from './__fixtures__/serve-child';
import { createStelloServer } from './create-stello-server';

// Crash recovery in seconds: a `stello serve` process killed with SIGKILL in the middle of a turn
// leaves nothing partial, its turn reads failed, and its session takes a new turn at once elsewhere.
const API_KEY = `stello_crash_${randomUUID().replaceAll('-', '')}`;

describe('crash recovery', () => {
  let db: TestDatabase;
  let slowLlm: FakeLLMServer;
  let fastLlm: FakeLLMServer;
  let doomed: ChildProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    // The doomed process's model takes 30 s to answer: it is killed while the turn runs.
    slowLlm = await startFakeOpenAI({ firstTokenLatencyMs: 30_000 });
    fastLlm = await startFakeOpenAI();
  });
  afterAll(async () => {
    doomed?.kill('SIGKILL');
    await slowLlm?.close();
    await fastLlm?.close();
    await db?.drop();
  });

  it('answers a turn on the session of a SIGKILLed turn within 2 s, on another process, nothing partial stored', async () => {
    const { process: child, url } = await startServeChild({
      STELLO_API_KEY: API_KEY,
      DATABASE_URL: db.url,
      OPENAI_BASE_URL: slowLlm.baseURL,
      OPENAI_API_KEY: 'k',
      STELLO_MODEL: 'gpt-test',
    });
    doomed = child;
    const headers = { 'x-api-key': API_KEY, 'content-type': 'application/json' };
    const space = (await (
      await fetch(`${url}/spaces`, { method: 'POST', headers, body: '{"label":"crash"}' })
    ).json()) as {
      id: string;
    };
    const [root] = (await (await fetch(`${url}/spaces/${space.id}/sessions`, { headers })).json()) as Array<{
      id: string;
    }>;
    const base = `/spaces/${space.id}/sessions/${root!.id}`;
    const turnId = randomUUID();
    void fetch(`${url}${base}/turn`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ input: 'never answered', turnId }),
    }).catch(() => {});
    // Wait until the doomed process holds the session (its LLM call has started).
    const deadline = Date.now() + 15_000;
    while (slowLlm.requests.length === 0) {
      if (Date.now() > deadline) throw new Error('the doomed turn never reached its model');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    // A second server on the same database (as after a restart, or another replica).
    const server = await createStelloServer({
      pool: db.pool,
      agentPoolOptions: {
        model: createOpenAICompatibleAdapter({
          baseURL: fastLlm.baseURL,
          apiKey: 'k',
          model: 'gpt-test',
          maxRetries: 0,
        }),
      },
    });
    const { port, close } = await server.listen(0);
    try {
      const started = Date.now();
      const answer = await fetch(`http://127.0.0.1:${port}${base}/turn`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ input: 'after the crash' }),
      });
      expect(answer.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2_000);
      const status = (await (
        await fetch(`http://127.0.0.1:${port}${base}/turns/${turnId}`, { headers })
      ).json()) as {
        status: string;
      };
      expect(status.status).toBe('failed');
      const messages = (await (
        await fetch(`http://127.0.0.1:${port}${base}/messages`, { headers })
      ).json()) as Array<{
        content: string;
      }>;
      expect(messages.map((message) => message.content)).not.toContain('never answered');
      expect(messages).toHaveLength(2);
    } finally {
      await close();
    }
  }, 90_000);
});
