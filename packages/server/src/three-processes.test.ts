import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { UserStore } from '@stello-ai/runtime';
import { PgStores } from '@stello-ai/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeChild, startServeChild } from './__fixtures__/serve-child';

// Three real `stello serve` processes on one database (offline model), SSE subscribers on each,
// 60 mixed turns and forks on shared sessions spread over them, and one process SIGKILLed midway:
// the subscribers of the survivors get every event of their space and none of another tenant.

const OPS = 60;
const KILL_AFTER = 20;

type Child = ServeChild;

function startServe(databaseUrl: string, apiKey: string): Promise<Child> {
  return startServeChild({ DATABASE_URL: databaseUrl, STELLO_API_KEY: apiKey });
}

interface Subscriber {
  events: Array<{ kind: string; spaceId: string; sessionId?: string }>;
  stop(): void;
}

async function subscribe(url: string, spaceId: string, apiKey: string): Promise<Subscriber> {
  const controller = new AbortController();
  const response = await fetch(`${url}/spaces/${spaceId}/events`, {
    headers: { 'X-API-Key': apiKey },
    signal: controller.signal,
  });
  if (response.status !== 200) throw new Error(`subscribe: ${response.status}`);
  const events: Subscriber['events'] = [];
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (data) events.push(JSON.parse(data));
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // Aborted at the end of the test.
    }
  })();
  return { events, stop: () => controller.abort() };
}

// Turns and forks are counted exactly; background consolidations come on their own schedule.
const CORE_KINDS = new Set(['turn.started', 'turn.completed', 'session.forked']);

function core(subscriber: Subscriber): number {
  return subscriber.events.filter((event) => CORE_KINDS.has(event.kind)).length;
}

async function waitFor(check: () => boolean, ms: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('three server processes, one SIGKILLed', () => {
  let db: TestDatabase;
  const children: Child[] = [];
  const apiKey = `stello_${randomBytes(32).toString('base64url')}`;

  beforeAll(async () => {
    db = await createTestDatabase();
    // Sequential: each start migrates; the ledger lock makes concurrent starts safe, but slower here.
    for (let i = 0; i < 3; i += 1) children.push(await startServe(db.url, apiKey));
  }, 180_000);

  afterAll(async () => {
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
    await db?.drop();
  });

  it('delivers every event of the space to the survivors, none of another tenant', async () => {
    const call = async (url: string, method: string, path: string, key: string, body?: unknown) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { 'X-API-Key': key, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? null : JSON.parse(text) };
    };
    const [p1, p2, p3] = children as [Child, Child, Child];
    const space = await call(p1.url, 'POST', '/spaces', apiKey, { label: 'shared' });
    const spaceId = space.body.id as string;
    const root = (await call(p1.url, 'GET', `/spaces/${spaceId}/sessions`, apiKey)).body[0].id as string;

    const other = await new UserStore(new PgStores(db.pool).users).createUser('other-tenant');
    const foreign = await call(p2.url, 'POST', '/spaces', other.apiKey, { label: 'foreign' });
    const foreignId = foreign.body.id as string;
    const foreignRoot = (await call(p2.url, 'GET', `/spaces/${foreignId}/sessions`, other.apiKey)).body[0].id;

    const subscribers = await Promise.all([p1, p2, p3].map((child) => subscribe(child.url, spaceId, apiKey)));
    const [s1, s2] = subscribers as [Subscriber, Subscriber, Subscriber];

    const sessions = [root];
    let expected = 0;
    const started = Date.now();
    for (let op = 0; op < OPS; op += 1) {
      if (op === KILL_AFTER) {
        // Everything P3 published has arrived before it dies: its events are not lost in flight.
        await waitFor(
          () => core(s1) === expected && core(s2) === expected,
          5_000,
          () => `events before the kill (expected ${expected}, got ${core(s1)} and ${core(s2)})`,
        );
        p3.process.kill('SIGKILL');
      }
      const live = op < KILL_AFTER ? [p1, p2, p3] : [p1, p2];
      const target = live[op % live.length] as Child;
      const sessionId = sessions[op % sessions.length] as string;
      // Three ops at a time on shared sessions, from different processes.
      const batch = [0, 1, 2].map(async (k) => {
        const via = live[(op + k) % live.length] as Child;
        const turn = await call(via.url, 'POST', `/spaces/${spaceId}/sessions/${sessionId}/turn`, apiKey, {
          input: `op ${op}.${k}`,
        });
        expect(turn.status).toBe(200);
      });
      await Promise.all(batch);
      expected += 3 * 2;
      if (op % 5 === 0 && sessions.length < 6) {
        const fork = await call(target.url, 'POST', `/spaces/${spaceId}/sessions/${sessionId}/fork`, apiKey, {
          label: `fork ${op}`,
        });
        expect(fork.status).toBe(201);
        sessions.push(fork.body.id);
        expected += 1;
      }
      // Another tenant's work runs alongside.
      if (op % 10 === 0) {
        const turn = await call(
          p2.url,
          'POST',
          `/spaces/${foreignId}/sessions/${foreignRoot}/turn`,
          other.apiKey,
          {
            input: 'elsewhere',
          },
        );
        expect(turn.status).toBe(200);
      }
    }

    await waitFor(() => core(s1) >= expected && core(s2) >= expected, 10_000, 'every event');
    expect(Date.now() - started).toBeLessThan(120_000);
    // Settle briefly: nothing more (duplicates, strays) may arrive.
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const subscriber of [s1, s2]) {
      expect(core(subscriber)).toBe(expected);
      // Background consolidations publish too; they are the only other kind.
      expect(
        subscriber.events.every(
          (event) => CORE_KINDS.has(event.kind) || event.kind === 'memory.consolidated',
        ),
      ).toBe(true);
      expect(subscriber.events.every((event) => event.spaceId === spaceId)).toBe(true);
      expect(JSON.stringify(subscriber.events)).not.toContain(foreignId);
      const kinds = subscriber.events.map((event) => event.kind);
      expect(kinds.filter((kind) => kind === 'turn.completed')).toHaveLength(OPS * 3);
      expect(kinds.filter((kind) => kind === 'session.forked')).toHaveLength(sessions.length - 1);
    }
    await waitFor(() => p3.process.signalCode === 'SIGKILL', 5_000, 'the killed process to be gone');
    for (const subscriber of subscribers) subscriber.stop();
  }, 240_000);
});
