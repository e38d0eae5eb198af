import { randomUUID } from 'node:crypto';
import {
  createTestDatabase,
  type FakeLLMServer,
  startFakeOpenAI,
  type TestDatabase,
} from '@internal/testing';
import { createOpenAICompatibleAdapter } from '@stello-ai/session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createStelloServer } from './create-stello-server';

// Live turns end to end: SSE streaming and its resume, and a WebSocket resume after a disconnect,
// on the same server and on a second server of the same database. Raw HTTP and sockets on purpose:
// the subject is the wire itself (event ids, Last-Event-ID, seq); the client's own suite covers
// the same resumes through @stello-ai/client.

interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** Reads a text/event-stream response to its end (bounded by the server ending the turn). */
async function readSse(response: Response): Promise<SseEvent[]> {
  const text = await response.text();
  const events: SseEvent[] = [];
  for (const block of text.split('\n\n')) {
    const event: SseEvent = { data: '' };
    let any = false;
    for (const line of block.split('\n')) {
      const at = line.indexOf(':');
      if (at <= 0) continue;
      const field = line.slice(0, at);
      const value = line.slice(at + 1).replace(/^ /, '');
      if (field === 'data') event.data += value;
      else if (field === 'id') event.id = value;
      else if (field === 'event') event.event = value;
      any = true;
    }
    if (any && event.data) events.push(event);
  }
  return events;
}

describe('live turns end to end', () => {
  let db: TestDatabase;
  let llm: FakeLLMServer;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    llm = await startFakeOpenAI({ chunkCount: 12, chunkDelayMs: 25 });
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await llm?.close();
    await db?.drop();
  });

  async function startServer(model: FakeLLMServer = llm) {
    const server = await createStelloServer({
      pool: db.pool,
      agentPoolOptions: {
        model: createOpenAICompatibleAdapter({
          baseURL: model.baseURL,
          apiKey: 'k',
          model: 'gpt-test',
          maxRetries: 0,
        }),
      },
    });
    const listening = await server.listen(0);
    closers.push(listening.close);
    return { server, base: `http://127.0.0.1:${listening.port}`, ws: `ws://127.0.0.1:${listening.port}` };
  }

  it('streams a turn over SSE and resumes it with Last-Event-ID', async () => {
    const { server, base } = await startServer();
    const { apiKey } = await server.userStore.createUser('sse');
    const headers = { 'x-api-key': apiKey, 'content-type': 'application/json' };
    const space = (await (
      await fetch(`${base}/spaces`, { method: 'POST', headers, body: '{"label":"sse"}' })
    ).json()) as { id: string };
    const [root] = (await (await fetch(`${base}/spaces/${space.id}/sessions`, { headers })).json()) as Array<{
      id: string;
    }>;
    const turnId = randomUUID();
    const response = await fetch(`${base}/spaces/${space.id}/sessions/${root!.id}/stream`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ input: 'stream me', turnId }),
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    expect(response.headers.get('x-turn-id')).toBe(turnId);
    const events = (await readSse(response)).filter((event) => event.id !== undefined);
    const frames = events.map(
      (event) =>
        JSON.parse(event.data) as {
          type: string;
          seq: number;
          chunk?: string;
          result?: { turn: { finalContent: string } };
        },
    );
    expect(events.map((event) => Number(event.id))).toEqual(frames.map((frame) => frame.seq));
    expect(frames.map((frame) => frame.seq)).toEqual(frames.map((_, i) => i + 1));
    const end = frames.at(-1)!;
    expect(end.type).toBe('stream.end');
    expect(
      frames
        .filter((f) => f.type === 'stream.delta')
        .map((f) => f.chunk)
        .join(''),
    ).toBe(end.result!.turn.finalContent);

    // A client that saw up to seq 3 gets the rest, from this process's frames.
    const resumed = await fetch(`${base}/spaces/${space.id}/sessions/${root!.id}/turns/${turnId}/events`, {
      headers: { ...headers, 'Last-Event-ID': '3' },
    });
    const rest = (await readSse(resumed)).map((event) => JSON.parse(event.data) as { seq: number });
    expect(rest.map((frame) => frame.seq)).toEqual(frames.slice(3).map((frame) => frame.seq));
    const unknown = await fetch(
      `${base}/spaces/${space.id}/sessions/${root!.id}/turns/${randomUUID()}/events`,
      { headers },
    );
    expect(unknown.status).toBe(404);
  });

  it('resumes a WebSocket stream after a disconnect, here and on another server of the database', async () => {
    const first = await startServer();
    const second = await startServer();
    const { apiKey } = await first.server.userStore.createUser('resume');
    const headers = { 'x-api-key': apiKey, 'content-type': 'application/json' };
    const space = (await (
      await fetch(`${first.base}/spaces`, { method: 'POST', headers, body: '{"label":"ws"}' })
    ).json()) as { id: string };
    const [root] = (await (
      await fetch(`${first.base}/spaces/${space.id}/sessions`, { headers })
    ).json()) as Array<{ id: string }>;
    const connect = async (ws: string) => {
      const socket = new WebSocket(`${ws}/spaces/${space.id}/ws`, { headers: { 'X-API-Key': apiKey } });
      const frames: Array<Record<string, any>> = [];
      socket.on('message', (data) => frames.push(JSON.parse(String(data))));
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      return { socket, frames };
    };
    const until = async (frames: Array<Record<string, any>>, check: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!check()) {
        if (Date.now() > deadline)
          throw new Error(`timed out; frames: ${JSON.stringify(frames.map((f) => f.type))}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };

    const streamer = await connect(first.ws);
    streamer.socket.send(JSON.stringify({ type: 'session.enter', sessionId: root!.id }));
    await until(streamer.frames, () => streamer.frames.some((f) => f.type === 'session.entered'));
    const turnId = randomUUID();
    streamer.socket.send(JSON.stringify({ type: 'session.stream', input: 'resume me', turnId }));
    await until(streamer.frames, () => streamer.frames.filter((f) => f.type === 'stream.delta').length >= 2);
    streamer.socket.terminate();
    const seen = streamer.frames.filter((f) => f.type === 'stream.delta');
    const afterSeq = seen.at(-1)!.seq as number;

    // Same server, new connection: the missed frames, then the live ones, then the end.
    const again = await connect(first.ws);
    again.socket.send(JSON.stringify({ type: 'session.resume', sessionId: root!.id, turnId, afterSeq }));
    await until(again.frames, () => again.frames.some((f) => f.type === 'stream.end'));
    const end = again.frames.find((f) => f.type === 'stream.end')!;
    const text = [...seen, ...again.frames.filter((f) => f.type === 'stream.delta')]
      .map((f) => f.chunk)
      .join('');
    expect(text).toBe(end.result.turn.finalContent);
    expect(again.frames.filter((f) => f.seq !== undefined).every((f) => f.seq > afterSeq)).toBe(true);
    again.socket.close();

    // Another server of the same database: the stored end of the turn, with its whole text.
    const elsewhere = await connect(second.ws);
    elsewhere.socket.send(JSON.stringify({ type: 'session.resume', sessionId: root!.id, turnId, afterSeq }));
    await until(elsewhere.frames, () =>
      elsewhere.frames.some((f) => f.type === 'stream.end' || f.type === 'error'),
    );
    expect(elsewhere.frames.at(-1)).toMatchObject({
      type: 'stream.end',
      turnId,
      result: { turn: { finalContent: end.result.turn.finalContent } },
    });
    elsewhere.socket.send(
      JSON.stringify({ type: 'session.resume', sessionId: root!.id, turnId: randomUUID(), afterSeq: 0 }),
    );
    await until(elsewhere.frames, () => elsewhere.frames.some((f) => f.type === 'error'));
    expect(elsewhere.frames.at(-1)).toMatchObject({ type: 'error', code: 'TURN_NOT_FOUND' });
    elsewhere.socket.close();
  });

  it('relays the live frames of a turn streaming on one server to a resume on another', async () => {
    // Slow enough that most of the turn streams after the resume on the other server.
    const slow = await startFakeOpenAI({ chunkCount: 24, chunkDelayMs: 80 });
    closers.push(() => slow.close());
    const owner = await startServer(slow);
    const other = await startServer(slow);
    const { apiKey } = await owner.server.userStore.createUser('relay');
    const headers = { 'x-api-key': apiKey, 'content-type': 'application/json' };
    const space = (await (
      await fetch(`${owner.base}/spaces`, { method: 'POST', headers, body: '{"label":"relay"}' })
    ).json()) as { id: string };
    const [root] = (await (
      await fetch(`${owner.base}/spaces/${space.id}/sessions`, { headers })
    ).json()) as Array<{
      id: string;
    }>;
    const connect = async (ws: string) => {
      const socket = new WebSocket(`${ws}/spaces/${space.id}/ws`, { headers: { 'X-API-Key': apiKey } });
      const frames: Array<Record<string, any> & { at: number }> = [];
      socket.on('message', (data) => frames.push({ ...JSON.parse(String(data)), at: Date.now() }));
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      return { socket, frames };
    };
    const until = async (check: () => boolean) => {
      const deadline = Date.now() + 15_000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error('timed out');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };

    const streamer = await connect(owner.ws);
    streamer.socket.send(JSON.stringify({ type: 'session.enter', sessionId: root!.id }));
    await until(() => streamer.frames.some((f) => f.type === 'session.entered'));
    const turnId = randomUUID();
    const input = 'the tide comes in and the tide goes out, '.repeat(6);
    streamer.socket.send(JSON.stringify({ type: 'session.stream', input, turnId }));
    await until(() => streamer.frames.filter((f) => f.type === 'stream.delta').length >= 2);
    streamer.socket.terminate();
    const seen = streamer.frames.filter((f) => f.type === 'stream.delta');
    const afterSeq = seen.at(-1)!.seq as number;

    const follower = await connect(other.ws);
    follower.socket.send(JSON.stringify({ type: 'session.resume', sessionId: root!.id, turnId, afterSeq }));
    await until(() => follower.frames.some((f) => f.type === 'stream.end' || f.type === 'error'));
    const relayed = follower.frames.filter((f) => f.type === 'stream.delta');
    const end = follower.frames.at(-1)!;
    expect(end).toMatchObject({ type: 'stream.end', turnId });
    // Live: deltas arrived one by one, well before the end, not all at once with it.
    expect(relayed.length).toBeGreaterThan(5);
    expect(end.at - relayed[0]!.at).toBeGreaterThan(300);
    // Nothing lost, nothing repeated, in order.
    const seqs = follower.frames.filter((f) => f.seq !== undefined).map((f) => f.seq as number);
    expect(seqs[0]).toBeGreaterThan(afterSeq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect([...seen, ...relayed].map((f) => f.chunk).join('')).toBe(end.result.turn.finalContent);
    follower.socket.close();
  });
});
