import { type FakeLLMServer, startFakeOpenAI } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchSocket } from '../load/bench-socket';
import { RestClient } from '../load/rest-client';
import { type BareServer, startBareServer } from './bare-server';

// The bare reference answers the bench's own clients with the shapes the scenarios read.
describe('bare reference server', () => {
  let llm: FakeLLMServer;
  let bare: BareServer;
  let rest: RestClient;
  let apiKey: string;

  beforeAll(async () => {
    llm = await startFakeOpenAI();
    bare = await startBareServer({ zeroBaseURL: llm.baseURL, realisticBaseURL: llm.baseURL });
    rest = new RestClient(`http://127.0.0.1:${bare.port}`, 2);
    apiKey = bare.createUser('bench');
  });
  afterAll(async () => {
    await rest.close();
    await bare.close();
    await llm.close();
  });

  async function spaceWithRoot(): Promise<{ spaceId: string; rootId: string }> {
    const created = await rest.expect<{ id: string }>(201, 'POST', '/spaces', apiKey, {
      label: 'one',
      systemPrompt: 'You are terse.',
    });
    const spaceId = created.body.id;
    const sessions = await rest.expect<{ id: string; parentId: string | null }[]>(
      200,
      'GET',
      `/spaces/${spaceId}/sessions`,
      apiKey,
    );
    expect(sessions.body).toHaveLength(1);
    return { spaceId, rootId: sessions.body[0]?.id ?? '' };
  }

  it('refuses an unknown API key and another user’s space', async () => {
    expect((await rest.send('POST', '/spaces', 'wrong', { label: 'x' })).status).toBe(401);
    const { spaceId } = await spaceWithRoot();
    const other = bare.createUser('other');
    expect((await rest.send('GET', `/spaces/${spaceId}/sessions`, other)).status).toBe(404);
  });

  it('sends the whole history in every prompt of REST turns', async () => {
    const { spaceId, rootId } = await spaceWithRoot();
    const path = `/spaces/${spaceId}/sessions/${rootId}/turn`;
    const first = await rest.expect<{ turn: { finalContent: string } }>(200, 'POST', path, apiKey, {
      input: 'first',
    });
    expect(first.body.turn.finalContent.length).toBeGreaterThan(0);
    await rest.expect(200, 'POST', path, apiKey, { input: 'second' });
    const prompt = llm.requests.at(-1)?.body?.messages as { role: string; content: string }[];
    expect(prompt.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(prompt[3]?.content).toBe('second');
  });

  it('streams deltas then the end over WebSocket, and answers message turns', async () => {
    const { spaceId, rootId } = await spaceWithRoot();
    const socket = await BenchSocket.connect(`ws://127.0.0.1:${bare.port}`, spaceId, apiKey);
    await socket.enter(rootId);
    const timing = await socket.streamTurn('hello there');
    expect(timing.firstDeltaMs).toBeLessThanOrEqual(timing.totalMs);
    await socket.messageTurn('again');
    await socket.close();
    const page = await rest.expect<{ role: string }[]>(
      200,
      'GET',
      `/spaces/${spaceId}/sessions/${rootId}/messages?limit=3`,
      apiKey,
    );
    expect(page.body.map((record) => record.role)).toEqual(['user', 'assistant', 'user']);
    expect(typeof page.headers['x-next-cursor']).toBe('string');
  });

  it('forks sessions and reads them back as a nested tree', async () => {
    const { spaceId, rootId } = await spaceWithRoot();
    const child = await rest.expect<{ id: string }>(
      201,
      'POST',
      `/spaces/${spaceId}/sessions/${rootId}/fork`,
      apiKey,
      {
        label: 'child',
      },
    );
    await rest.expect(201, 'POST', `/spaces/${spaceId}/sessions/${child.body.id}/fork`, apiKey, {
      label: 'grandchild',
    });
    const tree = await rest.expect<{ children: { children: unknown[] }[] }>(
      200,
      'GET',
      `/spaces/${spaceId}/sessions?view=tree`,
      apiKey,
    );
    expect(tree.body.children).toHaveLength(1);
    expect(tree.body.children[0]?.children).toHaveLength(1);
  });
});
