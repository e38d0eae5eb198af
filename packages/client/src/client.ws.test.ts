import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientStack, startClientStack } from './__fixtures__/client-stack';
import { collect, expectWholeTurn, LONG_INPUT, rejectionOf, waitFor } from './__fixtures__/turn-frames';
import { type ConnectionStatus, isStelloError, type SpaceEvent } from './index';

// The WebSocket connection against a real server, through a proxy that cuts connections the way
// a network failure does (no close handshake), on Node's global WebSocket.

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe('StelloConnection', () => {
  let stack: ClientStack;

  beforeAll(async () => {
    stack = await startClientStack({ chunkCount: 20, chunkDelayMs: 25 });
  });
  afterAll(async () => {
    await stack?.close();
  });

  async function freshSpace(): Promise<{ spaceId: string; sessionId: string }> {
    const space = await stack.client.spaces.create({ label: 'ws' });
    const [root] = await stack.client.sessions.list({ spaceId: space.id });
    return { spaceId: space.id, sessionId: root?.id as string };
  }

  it('enters a session and streams a turn as an async iterator', async () => {
    const ref = await freshSpace();
    const connection = await stack.client.connect(ref.spaceId);
    try {
      const bootstrap = await connection.enter(ref.sessionId);
      expect(bootstrap.session.id).toBe(ref.sessionId);
      const stream = connection.stream({ input: LONG_INPUT });
      const frames = await collect(stream);
      expectWholeTurn(frames, await stream.result);
      expect((await stream.result).turnId).toBe(stream.turnId);
    } finally {
      connection.close();
    }
  });

  it('reconnects after a drop mid-stream and resumes after the last seq, losing and repeating nothing', async () => {
    const ref = await freshSpace();
    const statuses: ConnectionStatus[] = [];
    const connection = await stack.client.connect(ref.spaceId, {
      reconnect: { minDelayMs: 10 },
      onStatus: (status) => statuses.push(status),
    });
    try {
      await connection.enter(ref.sessionId);
      const acceptedBefore = stack.proxy.accepted;
      const stream = connection.stream({ input: LONG_INPUT });
      const frames = await collect(stream, (_frame, index) => {
        if (index === 2) stack.proxy.cutAll();
      });
      expect(statuses).toEqual(['open', 'reconnecting', 'open']);
      expect(stack.proxy.accepted - acceptedBefore).toBeGreaterThanOrEqual(1);
      expectWholeTurn(frames, await stream.result);
      expect((await stack.client.sessions.messages(ref)).items).toHaveLength(2);

      // The session was entered again on the new socket: the next turn needs no enter.
      const next = connection.stream({ input: 'after the drop' });
      expectWholeTurn(await collect(next), await next.result);
    } finally {
      connection.close();
    }
  });

  it('resumes a non-streamed turn (session.message) across a drop', async () => {
    const ref = await freshSpace();
    const connection = await stack.client.connect(ref.spaceId, { reconnect: { minDelayMs: 10 } });
    try {
      await connection.enter(ref.sessionId);
      const llmCalls = stack.fake.requests.length;
      const pending = connection.send({ input: LONG_INPUT });
      await waitFor(() => stack.fake.requests.length === llmCalls + 1);
      stack.proxy.cutAll();
      const result = await pending;
      expect(result.turn.finalContent).toBe(`Echo: ${LONG_INPUT}`);
      expect(stack.fake.requests.length).toBe(llmCalls + 1);
    } finally {
      connection.close();
    }
  });

  it('cancels a streamed turn over the socket', async () => {
    const ref = await freshSpace();
    const connection = await stack.client.connect(ref.spaceId);
    try {
      await connection.enter(ref.sessionId);
      const stream = connection.stream({ input: LONG_INPUT });
      const frames = await collect(stream, async (_frame, index) => {
        if (index === 1) await stream.cancel();
      });
      expect(frames.at(-1)?.type).toBe('turn.cancelled');
      expect(isStelloError(await rejectionOf(stream.result), 'TURN_CANCELLED')).toBe(true);
      expect(await stack.client.turns.get({ ...ref, turnId: stream.turnId })).toMatchObject({
        status: 'cancelled',
      });
      // The connection goes on.
      const after = await connection.send({ input: 'still here' });
      expect(after.turn.finalContent).toBe('Echo: still here');
    } finally {
      connection.close();
    }
  });

  it('cancels a resumed turn over the new socket after a drop', async () => {
    const ref = await freshSpace();
    const connection = await stack.client.connect(ref.spaceId, { reconnect: { minDelayMs: 10 } });
    try {
      await connection.enter(ref.sessionId);
      const stream = connection.stream({ input: LONG_INPUT });
      const frames = await collect(stream, async (_frame, index) => {
        if (index === 1) stack.proxy.cutAll();
        if (index === 4) await stream.cancel();
      });
      expect(frames.at(-1)?.type).toBe('turn.cancelled');
      // Before the cancel: every frame once, in order, across the drop.
      const seqs = frames.slice(0, -1).map((frame) => frame.seq);
      expect(seqs.length).toBeGreaterThanOrEqual(5);
      expect(seqs).toEqual(seqs.map((_seq, index) => index + 1));
      expect(isStelloError(await rejectionOf(stream.result), 'TURN_CANCELLED')).toBe(true);
      // On the new socket the server acknowledges the cancel at once, before the turn has unwound.
      await waitFor(
        async () => (await stack.client.turns.get({ ...ref, turnId: stream.turnId })).status === 'cancelled',
      );
      expect((await stack.client.sessions.messages(ref)).items).toHaveLength(0);
    } finally {
      connection.close();
    }
  });

  it('forks, leaves, and delivers the space events to subscribers', async () => {
    const ref = await freshSpace();
    const connection = await stack.client.connect(ref.spaceId);
    try {
      const events = await connection.subscribe();
      await connection.enter(ref.sessionId);
      const child = await connection.fork({ label: 'child' });
      expect(child).toMatchObject({ parentId: ref.sessionId, label: 'child' });
      const seen: SpaceEvent[] = [];
      for await (const event of events) {
        seen.push(event);
        if (event.kind === 'session.forked') break;
      }
      expect(seen.at(-1)).toMatchObject({
        kind: 'session.forked',
        sessionId: child.id,
        spaceId: ref.spaceId,
      });
      await connection.leave();
      const notEntered = await rejectionOf(connection.send({ input: 'x' }));
      expect(isStelloError(notEntered, 'NOT_ENTERED')).toBe(true);
    } finally {
      connection.close();
    }
  });

  it('answers errors typed by code: unknown session, unknown space, busy session', async () => {
    const ref = await freshSpace();
    const connection = await stack.client.connect(ref.spaceId);
    const other = await stack.client.connect(ref.spaceId);
    try {
      const unknown = await rejectionOf(connection.enter(UNKNOWN_ID));
      expect(isStelloError(unknown, 'SESSION_NOT_FOUND')).toBe(true);

      await connection.enter(ref.sessionId);
      await other.enter(ref.sessionId);
      const running = connection.stream({ input: LONG_INPUT });
      await running[Symbol.asyncIterator]().next();
      const busy = other.stream({ input: 'me too', concurrency: 'reject' });
      expect(isStelloError(await rejectionOf(collect(busy)), 'SESSION_BUSY')).toBe(true);
      await running.result;

      const noSpace = await rejectionOf(stack.client.connect(UNKNOWN_ID));
      expect(noSpace).toMatchObject({ code: 'SPACE_NOT_FOUND', status: 404 });
      const badKey = await rejectionOf(stack.makeClient({ apiKey: 'nope' }).connect(ref.spaceId));
      expect(badKey).toMatchObject({ code: 'INVALID_API_KEY', status: 401 });
    } finally {
      connection.close();
      other.close();
    }
  });

  it('fails what is pending with CONNECTION_LOST when closed, or when it cannot reconnect', async () => {
    const ref = await freshSpace();
    const connection = await stack.client.connect(ref.spaceId, { reconnect: false });
    await connection.enter(ref.sessionId);
    const stream = connection.stream({ input: LONG_INPUT });
    await stream[Symbol.asyncIterator]().next();
    stack.proxy.cutAll();
    expect(isStelloError(await rejectionOf(stream.result), 'CONNECTION_LOST')).toBe(true);
    expect(connection.status).toBe('closed');

    const second = await stack.client.connect(ref.spaceId);
    await second.enter(ref.sessionId);
    const pending = second.send({ input: 'x' });
    second.close();
    expect(isStelloError(await rejectionOf(pending), 'CONNECTION_LOST')).toBe(true);
  });
});
