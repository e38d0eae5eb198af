import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientStack, startClientStack } from './__fixtures__/client-stack';
import { rejectionOf, waitFor } from './__fixtures__/turn-frames';
import { isStelloError, StelloApiError } from './index';

// Every REST route of the server through the client, against a real server and database.

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe('StelloClient REST', () => {
  let stack: ClientStack;

  beforeAll(async () => {
    stack = await startClientStack({ chunkCount: 4, chunkDelayMs: 5 });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('answers health and readiness', async () => {
    expect(await stack.client.health()).toBe(true);
    expect(await stack.client.ready()).toBe(true);
  });

  it('creates, lists (paged), reads, updates and deletes spaces', async () => {
    const { spaces } = stack.client;
    const a = await spaces.create({ label: 'a', systemPrompt: 'be brief' });
    const b = await spaces.create({ label: 'b', config: { consolidateEvery: 3 } });
    expect(a).toMatchObject({ label: 'a', systemPrompt: 'be brief' });

    const first = await spaces.list({ limit: 1 });
    expect(first.items.map((space) => space.id)).toEqual([a.id]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await spaces.list({ limit: 1, after: first.nextCursor as string });
    expect(second.items.map((space) => space.id)).toEqual([b.id]);
    const all: string[] = [];
    for await (const space of spaces.listAll({ limit: 1 })) all.push(space.id);
    expect(all).toEqual([a.id, b.id]);

    expect(await spaces.get({ spaceId: b.id })).toEqual(b);
    const updated = await spaces.update({ spaceId: a.id }, { label: 'a2', systemPrompt: null });
    expect(updated).toMatchObject({ id: a.id, label: 'a2', systemPrompt: null });

    await spaces.delete({ spaceId: a.id });
    const error = await rejectionOf(spaces.get({ spaceId: a.id }));
    expect(isStelloError(error, 'SPACE_NOT_FOUND')).toBe(true);
    expect(error).toMatchObject({ status: 404, requestId: expect.any(String) });
  });

  it('lists, forks, reads and archives sessions, flat and as a tree', async () => {
    const { spaces, sessions } = stack.client;
    const space = await spaces.create({ label: 'tree' });
    const [root] = await sessions.list({ spaceId: space.id });
    if (!root) throw new Error('no root session');
    expect(root).toMatchObject({ parentId: null, depth: 0, label: 'tree' });

    const child = await sessions.fork(
      { spaceId: space.id, sessionId: root.id },
      { label: 'child', scope: 's' },
    );
    expect(child).toMatchObject({ parentId: root.id, depth: 1, index: 0, label: 'child', scope: 's' });
    const grandchild = await sessions.fork(
      { spaceId: space.id, sessionId: child.id },
      { label: 'grandchild', context: 'inherit' },
    );

    expect(await sessions.get({ spaceId: space.id, sessionId: child.id })).toMatchObject({
      id: child.id,
      children: [grandchild.id],
    });
    const tree = await sessions.tree({ spaceId: space.id });
    expect(tree.id).toBe(root.id);
    expect(tree.children[0]?.children[0]?.id).toBe(grandchild.id);

    const archived = await sessions.archive({ spaceId: space.id, sessionId: grandchild.id });
    expect(archived).toMatchObject({ sessionId: grandchild.id, status: 'archived' });
    const error = await rejectionOf(
      stack.client.turns.send({ spaceId: space.id, sessionId: grandchild.id, input: 'hi' }),
    );
    expect(error).toBeInstanceOf(StelloApiError);
    expect(error).toMatchObject({ code: 'SESSION_ARCHIVED', status: 409 });
  });

  it('reads and writes the session data slots', async () => {
    const { spaces, sessions } = stack.client;
    const space = await spaces.create({ label: 'slots' });
    const [root] = await sessions.list({ spaceId: space.id });
    const ref = { spaceId: space.id, sessionId: root?.id as string };
    for (const slot of ['system-prompt', 'consolidate-prompt', 'integrate-prompt'] as const) {
      expect(await sessions.putSlot({ ...ref, slot, content: `${slot}!` })).toBe(`${slot}!`);
      expect(await sessions.getSlot({ ...ref, slot })).toBe(`${slot}!`);
    }
    expect(await sessions.getSlot({ ...ref, slot: 'memory' })).toBeNull();
    expect(await sessions.getSlot({ ...ref, slot: 'insight' })).toBeNull();
  });

  it('sends turns, pages the messages, reads and cancels a turn by id', async () => {
    const { spaces, sessions, turns } = stack.client;
    const space = await spaces.create({ label: 'turns' });
    const [root] = await sessions.list({ spaceId: space.id });
    const ref = { spaceId: space.id, sessionId: root?.id as string };

    const first = await turns.send({ ...ref, input: 'hello there' });
    expect(first.turn.finalContent).toBe('Echo: hello there');
    await turns.send({ ...ref, input: 'second' });

    const whole = await sessions.messages(ref);
    expect(whole.items.map((record) => record.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(whole.nextCursor).toBeNull();
    const page = await sessions.messages({ ...ref, limit: 3 });
    expect(page.items).toHaveLength(3);
    const rest = await sessions.messages({ ...ref, limit: 3, after: page.nextCursor as string });
    expect(rest.items.map((record) => record.content)).toEqual(['Echo: second']);

    expect(await turns.get({ ...ref, turnId: first.turnId })).toMatchObject({
      turnId: first.turnId,
      status: 'completed',
      result: { turn: { finalContent: 'Echo: hello there' } },
    });
    // A finished turn stays as it ended.
    expect(await turns.cancel({ ...ref, turnId: first.turnId })).toEqual({
      turnId: first.turnId,
      status: 'completed',
    });
    const unknown = await rejectionOf(turns.get({ ...ref, turnId: UNKNOWN_ID }));
    expect(unknown).toMatchObject({ code: 'TURN_NOT_FOUND', status: 404 });
  });

  it('retries a turn whose answer was lost with the same turn id, and the server runs it once', async () => {
    const space = await stack.client.spaces.create({ label: 'retries' });
    const [root] = await stack.client.sessions.list({ spaceId: space.id });
    let calls = 0;
    // The first POST reaches the server, but its answer is "lost" on the way back.
    const lossy = stack.makeClient({
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        calls += 1;
        if (calls === 1) {
          await response.text();
          throw new TypeError('fetch failed');
        }
        return response;
      },
    });
    const llmCallsBefore = stack.fake.requests.length;
    const result = await lossy.turns.send({
      spaceId: space.id,
      sessionId: root?.id as string,
      input: 'only once',
      retry: { minDelayMs: 10 },
    });
    expect(calls).toBe(2);
    expect(result.turn.finalContent).toBe('Echo: only once');
    expect(stack.fake.requests.length - llmCallsBefore).toBe(1);
    const records = await stack.client.sessions.messages({
      spaceId: space.id,
      sessionId: root?.id as string,
    });
    expect(records.items).toHaveLength(2);
  });

  it('gives typed errors with status, request id and details', async () => {
    const { client } = stack;
    const space = await client.spaces.create({ label: 'errors' });

    const noSession = await rejectionOf(client.sessions.get({ spaceId: space.id, sessionId: UNKNOWN_ID }));
    expect(noSession).toMatchObject({
      code: 'SESSION_NOT_FOUND',
      status: 404,
      requestId: expect.any(String),
    });

    const invalid = await rejectionOf(client.spaces.create({ label: '' }));
    expect(invalid).toMatchObject({ code: 'VALIDATION_ERROR', status: 400 });
    expect((invalid as StelloApiError).details).toEqual([expect.objectContaining({ path: 'label' })]);

    const badKey = await rejectionOf(stack.makeClient({ apiKey: 'nope' }).spaces.list());
    expect(badKey).toMatchObject({ code: 'INVALID_API_KEY', status: 401 });

    const unreachable = await rejectionOf(
      stack.makeClient({ baseUrl: 'http://127.0.0.1:1' }).spaces.list({ limit: 1 }),
    );
    expect(unreachable).toMatchObject({ code: 'NETWORK_ERROR', status: 0 });
  });

  it('streams the space events over SSE', async () => {
    const { client } = stack;
    const space = await client.spaces.create({ label: 'events' });
    const [root] = await client.sessions.list({ spaceId: space.id });
    const controller = new AbortController();
    const events = client.spaces.events({ spaceId: space.id, signal: controller.signal });
    const firstEvent = events.next();
    // The subscription is live only: fork until the event arrives after it started.
    let received: Awaited<typeof firstEvent> | undefined;
    void firstEvent.then((result) => {
      received = result;
    });
    let child: { id: string } | undefined;
    await waitFor(async () => {
      if (received) return true;
      child = await client.sessions.fork(
        { spaceId: space.id, sessionId: root?.id as string },
        { label: 'c' },
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      return received !== undefined;
    });
    expect(received?.value).toMatchObject({
      kind: 'session.forked',
      spaceId: space.id,
      sessionId: expect.any(String),
    });
    expect(child).toBeDefined();
    controller.abort();
    await events.return(undefined);
  });
});

describe('StelloClient REST, while a turn runs', () => {
  let slow: ClientStack;

  beforeAll(async () => {
    slow = await startClientStack({ chunkCount: 10, chunkDelayMs: 60 });
  });
  afterAll(async () => {
    await slow?.close();
  });

  it('rejects a turn at once under the reject policy while another runs (SESSION_BUSY)', async () => {
    const space = await slow.client.spaces.create({ label: 'busy' });
    const [root] = await slow.client.sessions.list({ spaceId: space.id });
    const llmCalls = slow.fake.requests.length;
    const ref = { spaceId: space.id, sessionId: root?.id as string };
    const running = slow.client.turns.send({ ...ref, input: 'a long running answer' });
    await waitFor(() => slow.fake.requests.length === llmCalls + 1);
    const busy = await rejectionOf(
      slow.client.turns.send({ ...ref, input: 'me too', concurrency: 'reject' }),
    );
    expect(isStelloError(busy, 'SESSION_BUSY')).toBe(true);
    expect(busy).toMatchObject({ status: 409 });
    await running;
  });

  it('aborts a request with its AbortSignal', async () => {
    const space = await slow.client.spaces.create({ label: 'abort' });
    const [root] = await slow.client.sessions.list({ spaceId: space.id });
    const llmCalls = slow.fake.requests.length;
    const controller = new AbortController();
    const pending = slow.client.turns.send({
      spaceId: space.id,
      sessionId: root?.id as string,
      input: 'a long running answer',
      signal: controller.signal,
    });
    await waitFor(() => slow.fake.requests.length === llmCalls + 1);
    const reason = new DOMException('the user gave up', 'AbortError');
    controller.abort(reason);
    expect(await rejectionOf(pending)).toBe(reason);
    const aborted = await rejectionOf(slow.client.spaces.list({ signal: AbortSignal.abort() }));
    expect(aborted).toMatchObject({ name: 'AbortError' });
  });
});
