import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientStack, startClientStack } from './__fixtures__/client-stack';
import { collect, expectWholeTurn, LONG_INPUT, rejectionOf, waitFor } from './__fixtures__/turn-frames';
import { isStelloError } from './index';

// Turns streamed over Server-Sent Events on fetch (the fallback without WebSocket), against a real
// server reached through a proxy that can cut connections.

describe('StelloClient SSE streams', () => {
  let stack: ClientStack;
  let ref: { spaceId: string; sessionId: string };

  beforeAll(async () => {
    stack = await startClientStack({ chunkCount: 20, chunkDelayMs: 25 });
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** A fresh session for each test: turns of one session run one at a time. */
  async function freshSession(): Promise<{ spaceId: string; sessionId: string }> {
    const space = await stack.client.spaces.create({ label: 'sse' });
    const [root] = await stack.client.sessions.list({ spaceId: space.id });
    ref = { spaceId: space.id, sessionId: root?.id as string };
    return ref;
  }

  it('streams a turn as an async iterator of frames', async () => {
    await freshSession();
    const stream = stack.client.sessions.stream({ ...ref, input: LONG_INPUT });
    const frames = await collect(stream);
    const result = await stream.result;
    expect(result.turnId).toBe(stream.turnId);
    expect(frames.filter((frame) => frame.type === 'stream.delta').length).toBeGreaterThan(5);
    expectWholeTurn(frames, result);
    expect(await stack.client.turns.get({ ...ref, turnId: stream.turnId })).toMatchObject({
      status: 'completed',
    });
  });

  it('resumes with Last-Event-ID after the connection is cut mid-stream, losing and repeating nothing', async () => {
    await freshSession();
    const requests: string[] = [];
    const client = stack.makeClient({
      fetch: (input, init) => {
        requests.push(`${init?.method} ${new URL(String(input)).pathname.split('/').at(-1)}`);
        return fetch(input, init);
      },
    });
    const stream = client.sessions.stream({ ...ref, input: LONG_INPUT, retry: { minDelayMs: 10 } });
    const frames = await collect(stream, (_frame, index) => {
      if (index === 2) stack.proxy.cutAll();
    });
    expect(requests).toEqual(['POST stream', 'GET events']);
    expectWholeTurn(frames, await stream.result);
    // One turn, one LLM call, one stored pair.
    const records = await stack.client.sessions.messages(ref);
    expect(records.items).toHaveLength(2);
  });

  it('follows a turn from a given seq with turns.events', async () => {
    await freshSession();
    const stream = stack.client.sessions.stream({ ...ref, input: LONG_INPUT });
    const all = await collect(stream);
    const rest = await collect(stack.client.turns.events({ ...ref, turnId: stream.turnId, afterSeq: 3 }));
    expect(rest).toEqual(all.slice(3));
  });

  it('cancels a streamed turn: the stream ends with turn.cancelled and nothing is stored', async () => {
    await freshSession();
    const stream = stack.client.sessions.stream({ ...ref, input: LONG_INPUT });
    const frames = await collect(stream, async (_frame, index) => {
      if (index === 1) await stream.cancel();
    });
    expect(frames.at(-1)?.type).toBe('turn.cancelled');
    expect(isStelloError(await rejectionOf(stream.result), 'TURN_CANCELLED')).toBe(true);
    expect(await stack.client.turns.get({ ...ref, turnId: stream.turnId })).toMatchObject({
      status: 'cancelled',
    });
    expect((await stack.client.sessions.messages(ref)).items).toHaveLength(0);
  });

  it('fails the stream with SESSION_BUSY under the reject policy', async () => {
    await freshSession();
    const running = stack.client.sessions.stream({ ...ref, input: LONG_INPUT });
    const first = running[Symbol.asyncIterator]().next();
    await first;
    const busy = stack.client.sessions.stream({ ...ref, input: 'me too', concurrency: 'reject' });
    const error = await rejectionOf(collect(busy));
    // The refusal comes as the stream's `error` event (the server answers the stream with 200).
    expect(isStelloError(error, 'SESSION_BUSY')).toBe(true);
    expect(await rejectionOf(busy.result)).toBe(error);
    await running.result;
  });

  it('stops listening when the signal aborts, and the turn still completes on the server', async () => {
    await freshSession();
    const controller = new AbortController();
    const stream = stack.client.sessions.stream({ ...ref, input: LONG_INPUT, signal: controller.signal });
    const error = await rejectionOf(
      collect(stream, (_frame, index) => {
        if (index === 1) controller.abort();
      }),
    );
    expect(error).toMatchObject({ name: 'AbortError' });
    await waitFor(
      async () => (await stack.client.turns.get({ ...ref, turnId: stream.turnId })).status === 'completed',
    );
  });

  it('stops listening on a break without cancelling the turn', async () => {
    await freshSession();
    const stream = stack.client.sessions.stream({ ...ref, input: LONG_INPUT });
    for await (const frame of stream) {
      if (frame.type === 'stream.delta') break;
    }
    await waitFor(
      async () => (await stack.client.turns.get({ ...ref, turnId: stream.turnId })).status === 'completed',
    );
  });
});
