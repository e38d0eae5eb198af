import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { serverFrameSchema, spaceEventSchema, spaceSchema } from '@stello-ai/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EHarness, startHarness, WsTestClient } from './__fixtures__/e2e-harness';

// The space events (SSE and WebSocket) need the control channel, which only the full server
// wires: their real frames are parsed with the protocol schemas the OpenAPI document names (raw
// frames on purpose: the client would parse them with the same schemas).
describe('space events conform to @stello-ai/protocol', () => {
  let db: TestDatabase;
  let h: E2EHarness;
  let spaceId: string;
  let rootId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    h = await startHarness(db.pool);
    spaceId = spaceSchema.parse((await h.api('POST', '/spaces', { label: 'Events' })).body).id;
    rootId = (await h.api('GET', `/spaces/${spaceId}/sessions`)).body[0].id;
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  it('SSE GET /spaces/:spaceId/events', async () => {
    const controller = new AbortController();
    const response = await fetch(`${h.baseUrl}/spaces/${spaceId}/events`, {
      headers: { 'X-API-Key': h.apiKey },
      signal: controller.signal,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (needle: string): Promise<void> => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`SSE ended before "${needle}"`);
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil(': subscribed');
    expect((await h.api('POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, { label: 'c' })).status).toBe(
      201,
    );
    expect((await h.api('PATCH', `/spaces/${spaceId}`, { label: 'renamed' })).status).toBe(200);
    await readUntil('event: space.updated');
    controller.abort();
    const blocks = text.split('\n\n').filter((block) => block.includes('data: '));
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const block of blocks) {
      const event = spaceEventSchema.parse(JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null'));
      expect(/^event: (.*)$/m.exec(block)?.[1]).toBe(event.kind);
      expect(/^id: (.*)$/m.exec(block)?.[1]).toBe(String(event.id));
    }
  });

  it('WebSocket space.subscribe, space.event, space.unsubscribe', async () => {
    const client = await WsTestClient.connect(h.wsUrl(spaceId), h.apiKey);
    try {
      client.send({ type: 'space.subscribe', spaceId });
      const frames = [await client.next()];
      expect(
        (await h.api('POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, { input: 'hi' })).status,
      ).toBe(200);
      frames.push(await client.next(), await client.next());
      client.send({ type: 'space.unsubscribe', spaceId });
      frames.push(await client.next());
      expect(frames.map((frame) => frame.type)).toEqual([
        'space.subscribed',
        'space.event',
        'space.event',
        'space.unsubscribed',
      ]);
      for (const frame of frames) serverFrameSchema.parse(frame);
    } finally {
      await client.close();
    }
  });
});
