import { createPool } from '@stello-ai/db';
import { UserStore } from '@stello-ai/runtime';
import { type ControlEvent, PgStores } from '@stello-ai/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EHarness, WsTestClient } from './__fixtures__/e2e-harness';
import { startTwoServers, type TwoServers } from './__fixtures__/two-servers';

// Two server stacks on one database, each with its own pool and control channel, as two
// processes would be. Both keep production caches (30 s keys, 5 s spaces, agents held), so only
// the control channel can make a change on one visible on the other within 1 s.

const WITHIN_MS = 1_000;

function nextEvent(h: E2EHarness, match: (event: ControlEvent) => boolean): Promise<ControlEvent> {
  const channel = h.server.controlChannel;
  if (!channel) throw new Error('the server has no control channel');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no matching control event within ${WITHIN_MS} ms`));
    }, WITHIN_MS);
    const stop = channel.subscribe((event) => {
      if (!match(event)) return;
      clearTimeout(timer);
      stop();
      resolve(event);
    });
  });
}

async function closedWithin(client: WsTestClient, ms: number): Promise<{ code: number; reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([client.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('two server processes on one database', () => {
  let servers: TwoServers;
  let a: E2EHarness;
  let b: E2EHarness;

  beforeAll(async () => {
    servers = await startTwoServers({ a: { cachedUserStore: true }, b: { cachedUserStore: true } });
    ({ a, b } = servers);
  });

  afterAll(async () => {
    await servers?.close();
  });

  async function createSpace(label: string, systemPrompt: string) {
    const created = await a.api('POST', '/spaces', { label, systemPrompt });
    expect(created.status).toBe(201);
    const sessions = await a.api('GET', `/spaces/${created.body.id}/sessions`);
    return { spaceId: created.body.id as string, rootId: sessions.body[0].id as string };
  }

  function systemPromptsSeenBy(h: E2EHarness): string[] {
    const last = h.fake.requests.at(-1);
    return (last?.body.messages ?? [])
      .filter((message: { role: string }) => message.role === 'system')
      .map((message: { content: string }) => message.content);
  }

  it('gives every process its own control channel identity', () => {
    expect(a.server.controlChannel?.instanceId).toBeGreaterThan(0);
    expect(b.server.controlChannel?.instanceId).toBeGreaterThan(0);
    expect(a.server.controlChannel?.instanceId).not.toBe(b.server.controlChannel?.instanceId);
  });

  it('a system prompt PATCHed on A is used by the next turn on B (its cached agent rebuilt)', async () => {
    const { spaceId, rootId } = await createSpace('coherent', 'Old prompt.');
    const warm = await b.api(
      'POST',
      `/spaces/${spaceId}/sessions/${rootId}/turn`,
      { input: 'first' },
      a.apiKey,
    );
    expect(warm.status).toBe(200);
    expect(systemPromptsSeenBy(b).join('\n')).toContain('Old prompt.');

    const seenOnB = nextEvent(b, (event) => event.kind === 'space.updated' && event.spaceId === spaceId);
    const patched = await a.api('PATCH', `/spaces/${spaceId}`, { systemPrompt: 'New prompt from A.' });
    expect(patched.status).toBe(200);
    const event = await seenOnB;
    expect(event.instanceId).toBe(a.server.controlChannel?.instanceId);

    const next = await b.api(
      'POST',
      `/spaces/${spaceId}/sessions/${rootId}/turn`,
      { input: 'second' },
      a.apiKey,
    );
    expect(next.status).toBe(200);
    const prompts = systemPromptsSeenBy(b).join('\n');
    expect(prompts).toContain('New prompt from A.');
    expect(prompts).not.toContain('Old prompt.');
    const space = await b.api('GET', `/spaces/${spaceId}`, undefined, a.apiKey);
    expect(space.body.systemPrompt).toBe('New prompt from A.');
  });

  it('a space DELETEd on A is gone on B within 1 s, though B had it cached', async () => {
    const { spaceId } = await createSpace('doomed', 'Bye.');
    expect((await b.api('GET', `/spaces/${spaceId}`, undefined, a.apiKey)).status).toBe(200);
    const seenOnB = nextEvent(b, (event) => event.kind === 'space.deleted' && event.spaceId === spaceId);
    expect((await a.api('DELETE', `/spaces/${spaceId}`)).status).toBe(204);
    await seenOnB;
    // The re-read runs right after the event; give it the rest of the second.
    const deadline = Date.now() + WITHIN_MS;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await b.api('GET', `/spaces/${spaceId}`, undefined, a.apiKey)).status;
      if (status === 404) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(404);
  });

  it('a key revoked outside the servers (as the CLI does) closes its sockets on both with 1008 and gets 401 on both', async () => {
    const owner = await a.server.userStore.createUser('revoked-soon');
    const key = owner.apiKey;
    const created = await a.api('POST', '/spaces', { label: 'revocation' }, key);
    const spaceId = created.body.id as string;
    // Warm both key caches (30 s) and open a socket on each process.
    expect((await a.api('GET', `/spaces/${spaceId}`, undefined, key)).status).toBe(200);
    expect((await b.api('GET', `/spaces/${spaceId}`, undefined, key)).status).toBe(200);
    const onA = await WsTestClient.connect(a.wsUrl(spaceId), key);
    const onB = await WsTestClient.connect(b.wsUrl(spaceId), key);
    // Another user's socket must stay open.
    const { spaceId: otherSpace } = await createSpace('bystander', 'Stay.');
    const bystander = await WsTestClient.connect(b.wsUrl(otherSpace), a.apiKey);

    const cliPool = createPool({ connectionString: servers.db.url });
    try {
      expect(await new UserStore(new PgStores(cliPool).users).revokeKey(owner.user.id)).toBe(true);
    } finally {
      await cliPool.end();
    }

    const [closedA, closedB] = await Promise.all([
      closedWithin(onA, WITHIN_MS),
      closedWithin(onB, WITHIN_MS),
    ]);
    expect(closedA).toEqual({ code: 1008, reason: 'API key revoked' });
    expect(closedB).toEqual({ code: 1008, reason: 'API key revoked' });
    expect((await a.api('GET', `/spaces/${spaceId}`, undefined, key)).status).toBe(401);
    expect((await b.api('GET', `/spaces/${spaceId}`, undefined, key)).status).toBe(401);

    expect(bystander.socket.readyState).toBe(bystander.socket.OPEN);
    await bystander.close();
  });

  it('a key rotated on A stops working on B at once: the socket of the old key is closed, the new key works', async () => {
    const owner = await a.server.userStore.createUser('rotated');
    const created = await a.api('POST', '/spaces', { label: 'rotation' }, owner.apiKey);
    const spaceId = created.body.id as string;
    expect((await b.api('GET', `/spaces/${spaceId}`, undefined, owner.apiKey)).status).toBe(200);
    const onB = await WsTestClient.connect(b.wsUrl(spaceId), owner.apiKey);

    const newKey = await a.server.userStore.issueKey(owner.user.id);

    expect((await closedWithin(onB, WITHIN_MS)).code).toBe(1008);
    expect((await b.api('GET', `/spaces/${spaceId}`, undefined, owner.apiKey)).status).toBe(401);
    expect((await b.api('GET', `/spaces/${spaceId}`, undefined, newKey)).status).toBe(200);
  });

  it("SSE on B delivers the events of turns, forks and PATCHes made on A, never another tenant's", async () => {
    const { spaceId, rootId } = await createSpace('watched', 'Watch me.');
    const other = await b.server.userStore.createUser('other-tenant');
    const foreign = await b.api('POST', '/spaces', { label: 'foreign' }, other.apiKey);
    const foreignRoot = (await b.api('GET', `/spaces/${foreign.body.id}/sessions`, undefined, other.apiKey))
      .body[0].id;

    // Another tenant may not subscribe to this space.
    const refused = await fetch(`${b.baseUrl}/spaces/${spaceId}/events`, {
      headers: { 'X-API-Key': other.apiKey },
    });
    expect(refused.status).toBe(403);
    await refused.body?.cancel();

    const controller = new AbortController();
    const response = await fetch(`${b.baseUrl}/spaces/${spaceId}/events`, {
      headers: { 'X-API-Key': a.apiKey },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const decoder = new TextDecoder();
    const readUntil = async (needle: string): Promise<void> => {
      const deadline = Date.now() + WITHIN_MS * 3;
      while (!text.includes(needle)) {
        if (Date.now() > deadline) throw new Error(`no "${needle}" in SSE within 3 s: ${text}`);
        const { value, done } = await reader.read();
        if (done) throw new Error('SSE stream ended');
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil(': subscribed');

    // The other tenant's activity, on B itself.
    expect(
      (
        await b.api(
          'POST',
          `/spaces/${foreign.body.id}/sessions/${foreignRoot}/turn`,
          { input: 'x' },
          other.apiKey,
        )
      ).status,
    ).toBe(200);
    expect(
      (await a.api('POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, { input: 'hello' })).status,
    ).toBe(200);
    const fork = await a.api('POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, { label: 'child' });
    expect(fork.status).toBe(201);
    const prompt = `/spaces/${spaceId}/sessions/${fork.body.id}/system-prompt`;
    expect((await a.api('PUT', prompt, { content: 'Be brief.' })).status).toBe(200);
    expect((await a.api('PATCH', `/spaces/${spaceId}`, { label: 'renamed' })).status).toBe(200);
    await readUntil('event: space.updated');
    controller.abort();

    const events = text
      .split('\n\n')
      .filter((block) => block.includes('data: '))
      .map((block) => JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null'));
    expect(events.map((event) => event.kind)).toEqual([
      'turn.started',
      'turn.completed',
      'session.forked',
      'session.updated',
      'space.updated',
    ]);
    expect(events.every((event) => event.spaceId === spaceId)).toBe(true);
    expect(events.map((event) => event.id)).toEqual([1, 2, 3, 4, 5]);
    expect(events[2]).toMatchObject({ sessionId: fork.body.id, data: { parentId: rootId } });
    expect(events[3]).toMatchObject({ sessionId: fork.body.id, data: { changed: 'system-prompt' } });
    expect(text).not.toContain(foreign.body.id);
  });

  it('WS space.subscribe on B receives the events of A, refuses another space and stops on unsubscribe', async () => {
    const { spaceId, rootId } = await createSpace('ws-watched', 'Watch.');
    const { spaceId: otherSpace } = await createSpace('ws-other', 'Other.');
    const client = await WsTestClient.connect(b.wsUrl(spaceId), a.apiKey);
    client.send({ type: 'space.subscribe', spaceId: otherSpace });
    expect((await client.expect('error')).code).toBe('FORBIDDEN');
    client.send({ type: 'space.subscribe', spaceId });
    expect(await client.expect('space.subscribed')).toEqual({ type: 'space.subscribed', spaceId });

    expect(
      (
        await a.api(
          'POST',
          `/spaces/${otherSpace}/sessions/${(await a.api('GET', `/spaces/${otherSpace}/sessions`)).body[0].id}/turn`,
          { input: 'elsewhere' },
        )
      ).status,
    ).toBe(200);
    expect(
      (await a.api('POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, { input: 'here' })).status,
    ).toBe(200);
    const started = await client.expect('space.event');
    const completed = await client.expect('space.event');
    expect([started.event.kind, completed.event.kind]).toEqual(['turn.started', 'turn.completed']);
    expect(started.event).toMatchObject({ id: 1, spaceId, sessionId: rootId });

    client.send({ type: 'space.unsubscribe', spaceId });
    expect((await client.expect('space.unsubscribed')).spaceId).toBe(spaceId);
    const seenOnB = nextEvent(b, (event) => event.kind === 'space.updated' && event.spaceId === spaceId);
    expect((await a.api('PATCH', `/spaces/${spaceId}`, { label: 'quiet' })).status).toBe(200);
    await seenOnB;
    // B had the event; the unsubscribed socket did not get it: its next frame answers the enter.
    client.send({ type: 'session.enter', sessionId: rootId });
    expect((await client.next()).type).toBe('session.entered');
    await client.close();
  });

  it('a system-prompt slot PUT on A is used by the next turn on B', async () => {
    const { spaceId, rootId } = await createSpace('slots', 'Root prompt.');
    const fork = await a.api('POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, { label: 'child' });
    const childId = fork.body.id as string;
    expect(
      (await b.api('POST', `/spaces/${spaceId}/sessions/${childId}/turn`, { input: 'one' }, a.apiKey)).status,
    ).toBe(200);
    const put = await a.api('PUT', `/spaces/${spaceId}/sessions/${childId}/system-prompt`, {
      content: 'Slot from A.',
    });
    expect(put.status).toBe(200);
    expect(
      (await b.api('POST', `/spaces/${spaceId}/sessions/${childId}/turn`, { input: 'two' }, a.apiKey)).status,
    ).toBe(200);
    expect(systemPromptsSeenBy(b).join('\n')).toContain('Slot from A.');
  });
});
