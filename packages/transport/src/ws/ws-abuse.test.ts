import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest } from '../__fixtures__/rest-client';
import { createTestStack, type TestServer, type TestStack, type TestUser } from '../__fixtures__/test-stack';
import { connectWs, refusedUpgrade } from '../__fixtures__/ws-test-client';

// One tenant must not hurt the others through its sockets: a peer that floods frames without
// reading, too many sockets, or a key that was revoked. Every loop here is bounded in count and time.

// A full GC on demand (the flag is set before the first use), so retained memory can be measured.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Heap and buffer memory still in use after a full garbage collection. */
function retainedBytes(): number {
  collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** A raw WebSocket client that never reads what the server sends (its socket is paused). */
async function openNonReadingSocket(url: string, apiKey: string): Promise<Socket> {
  const { hostname, port, pathname } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  socket.write(
    [
      `GET ${pathname} HTTP/1.1`,
      `Host: ${hostname}:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      `X-API-Key: ${apiKey}`,
      '',
      '',
    ].join('\r\n'),
  );
  const head = await new Promise<string>((resolve) =>
    socket.once('data', (data) => resolve(data.toString())),
  );
  expect(head).toMatch(/^HTTP\/1\.1 101/);
  socket.pause();
  return socket;
}

/** A masked client text frame (payloads under 126 bytes). */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

describe('WebSocket abuse', () => {
  let stack: TestStack;
  let server: TestServer;
  let user: TestUser;
  let spaceId: string;

  beforeAll(async () => {
    stack = await createTestStack({
      // The protocol-error cap is high here so that the send-buffer cap is what stops the flood.
      limits: { wsSendBufferBytes: 256 * 1024, wsMaxProtocolErrors: 1_000_000, wsConnectionsPerUser: 3 },
    });
    server = await stack.listen();
    user = await stack.createUser('flooder');
    spaceId = (await rest(stack.app, 'POST', '/spaces', { key: user.apiKey, json: { label: 'S' } })).body.id;
  });
  afterAll(() => stack?.close());

  const wsPath = (id: string) => `${server.wsUrl}/spaces/${id}/ws`;

  it('drops a client that floods bad frames and never reads; retained memory and /healthz hold', async () => {
    // Retained memory (heap and buffers after a full GC): this process also runs the client and the
    // test runner, so its RSS moves with their garbage; what the server keeps is what matters.
    const before = retainedBytes();
    const socket = await openNonReadingSocket(wsPath(spaceId), user.apiKey);
    let closed = false;
    socket.once('close', () => {
      closed = true;
    });
    const frame = textFrame('{"not":"a message"');
    const batch = Buffer.concat(Array.from({ length: 500 }, () => frame));
    const deadline = Date.now() + 8_000;
    let healthChecks = 0;
    let lastHealthCheck = 0;
    while (!closed && Date.now() < deadline) {
      // The client's own buffer stays bounded (this process holds both ends): wait for drain.
      if (!socket.write(batch)) {
        await Promise.race([
          new Promise((resolve) => socket.once('drain', resolve)),
          new Promise((resolve) => setTimeout(resolve, 100)),
        ]);
      }
      if (Date.now() - lastHealthCheck >= 100) {
        lastHealthCheck = Date.now();
        const health = await fetch(`${server.httpUrl}/healthz`);
        expect(health.status).toBe(200);
        healthChecks += 1;
      }
    }
    socket.destroy();
    expect(closed).toBe(true);
    expect(healthChecks).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(retainedBytes() - before).toBeLessThan(100 * 1024 * 1024);
    await expect.poll(() => server.gateway.size, { timeout: 3_000 }).toBe(0);
    const dropped = stack.logs.filter((entry) => entry.event === 'ws.dropped');
    expect(dropped).toHaveLength(1);
    expect(dropped[0]?.fields.code).toBe(1013);
    expect(stack.logs.filter((entry) => entry.event === 'ws.send_failed').length).toBeLessThanOrEqual(1);
  });

  it('closes a connection with 1008 after too many protocol errors, with one log line', async () => {
    const strict = await createTestStack({ limits: { wsMaxProtocolErrors: 5 } });
    try {
      const strictServer = await strict.listen();
      const owner = await strict.createUser('strict');
      const id = (await rest(strict.app, 'POST', '/spaces', { key: owner.apiKey, json: { label: 'S' } })).body
        .id;
      const client = await connectWs(`${strictServer.wsUrl}/spaces/${id}/ws`, {
        headers: { 'X-API-Key': owner.apiKey },
      });
      for (let i = 0; i < 20; i++) client.send('not json');
      expect(await client.closed).toBe(1008);
      expect(client.buffered.filter((frame) => frame.type === 'error')).toHaveLength(5);
      expect(strict.logs.filter((entry) => entry.event === 'ws.dropped')).toHaveLength(1);
    } finally {
      await strict.close();
    }
  });

  it('refuses sockets beyond the per-user cap with 429 and accepts one again after a close', async () => {
    const other = await stack.createUser('many-sockets');
    const id = (await rest(stack.app, 'POST', '/spaces', { key: other.apiKey, json: { label: 'M' } })).body
      .id;
    const headers = { 'X-API-Key': other.apiKey };
    const open = await Promise.all([1, 2, 3].map(() => connectWs(wsPath(id), { headers })));
    const refused = await refusedUpgrade(wsPath(id), { headers });
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'TOO_MANY_CONNECTIONS' });
    await open[0]!.close();
    const again = await connectWs(wsPath(id), { headers });
    await Promise.all([again, open[1]!, open[2]!].map((client) => client.close()));
  });

  it('answers a frame holding a lone surrogate with INVALID_TEXT', async () => {
    const client = await connectWs(wsPath(spaceId), { headers: { 'X-API-Key': user.apiKey } });
    client.send('{"type":"session.enter","sessionId":"\\ud800"}');
    expect(await client.next('error')).toMatchObject({
      code: 'INVALID_TEXT',
      details: { path: 'sessionId' },
    });
    await client.close();
  });

  it('closes the sockets of a revoked key within 1 s', async () => {
    const revoked = await stack.createUser('to-revoke');
    const id = (await rest(stack.app, 'POST', '/spaces', { key: revoked.apiKey, json: { label: 'R' } })).body
      .id;
    const client = await connectWs(wsPath(id), { headers: { 'X-API-Key': revoked.apiKey } });
    const started = Date.now();
    expect(await stack.userStore.revokeKey(revoked.userId)).toBe(true);
    expect(await client.closed).toBe(1008);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect((await refusedUpgrade(wsPath(id), { headers: { 'X-API-Key': revoked.apiKey } })).status).toBe(401);
  });
});
