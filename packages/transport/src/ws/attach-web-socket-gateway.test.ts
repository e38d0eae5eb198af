import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { createTestDatabase, createUnreachablePool } from '@internal/testing';
import { PgStores, SpaceManager, UserStore } from '@stello-ai/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { rest } from '../__fixtures__/rest-client';
import { createTestStack, type TestServer, type TestStack, type TestUser } from '../__fixtures__/test-stack';
import { connectWs, refusedUpgrade } from '../__fixtures__/ws-test-client';
import { attachWebSocketGateway } from './attach-web-socket-gateway';

const FRAME_LIMIT_BYTES = 2048;

describe('attachWebSocketGateway', () => {
  let stack: TestStack;
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let spaceId: string;
  let bobSpaceId: string;

  beforeAll(async () => {
    stack = await createTestStack({ limits: { wsFrameBytes: FRAME_LIMIT_BYTES } });
    server = await stack.listen();
    alice = await stack.createUser('alice');
    bob = await stack.createUser('bob');
    spaceId = (await rest(stack.app, 'POST', '/spaces', { key: alice.apiKey, json: { label: 'A' } })).body.id;
    bobSpaceId = (await rest(stack.app, 'POST', '/spaces', { key: bob.apiKey, json: { label: 'B' } })).body
      .id;
  });
  afterAll(() => stack?.close());

  const wsPath = (id: string) => `${server.wsUrl}/spaces/${id}/ws`;
  const parse = (body: string) => JSON.parse(body) as { error: string; code: string };

  describe('upgrade', () => {
    it('accepts the X-API-Key header and selects no subprotocol unless stello.v1 is offered', async () => {
      const plain = await connectWs(wsPath(spaceId), { headers: { 'X-API-Key': alice.apiKey } });
      expect(plain.protocol).toBe('');
      expect(server.gateway.size).toBe(1);
      await plain.close();
      const versioned = await connectWs(wsPath(spaceId), {
        headers: { 'X-API-Key': alice.apiKey },
        protocols: ['stello.v1'],
      });
      expect(versioned.protocol).toBe('stello.v1');
      await versioned.close();
    });

    it('accepts the key as a stello.key.<KEY> subprotocol with stello.v1 and never echoes the key', async () => {
      const socket = new WebSocket(wsPath(spaceId), ['stello.v1', `stello.key.${alice.apiKey}`]);
      let selected: string | undefined;
      socket.once('upgrade', (response) => {
        selected = response.headers['sec-websocket-protocol'];
      });
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      expect(selected).toBe('stello.v1');
      expect(socket.protocol).toBe('stello.v1');
      socket.close();
      await new Promise((resolve) => socket.once('close', resolve));
      expect(JSON.stringify(stack.logs)).not.toContain(alice.apiKey);
    });

    it('allows a query string on the path', async () => {
      const client = await connectWs(`${wsPath(spaceId)}?client=web`, {
        headers: { 'X-API-Key': alice.apiKey },
      });
      await client.close();
    });

    it('answers a path other than /spaces/:spaceId/ws with 404', async () => {
      const headers = { 'X-API-Key': alice.apiKey };
      for (const path of [
        `/spaces/${spaceId}/ws/extra`,
        `/spaces/${spaceId}/wsx`,
        `/spaces/${spaceId}/ws/`,
        '/ws',
        `/x/spaces/${spaceId}/ws`,
      ]) {
        const refused = await refusedUpgrade(`${server.wsUrl}${path}`, { headers });
        expect(refused.status, path).toBe(404);
        expect(parse(refused.body).code).toBe('NOT_FOUND');
      }
    });

    it('answers a non-UUID space id with 400', async () => {
      const refused = await refusedUpgrade(wsPath('not-a-uuid'), { headers: { 'X-API-Key': alice.apiKey } });
      expect(refused.status).toBe(400);
      expect(parse(refused.body).code).toBe('INVALID_ID');
    });

    it('answers a missing or invalid key with 401, by header or by subprotocol', async () => {
      const missing = await refusedUpgrade(wsPath(spaceId));
      expect(missing.status).toBe(401);
      expect(parse(missing.body).code).toBe('MISSING_API_KEY');
      const badHeader = await refusedUpgrade(wsPath(spaceId), {
        headers: { 'X-API-Key': 'stello_wrong-key-00000000000' },
      });
      expect(badHeader.status).toBe(401);
      expect(parse(badHeader.body).code).toBe('INVALID_API_KEY');
      const badProtocol = await refusedUpgrade(wsPath(spaceId), {
        protocols: ['stello.v1', 'stello.key.wrong'],
      });
      expect(badProtocol.status).toBe(401);
      expect(parse(badProtocol.body).code).toBe('INVALID_API_KEY');
      const onlyVersion = await refusedUpgrade(wsPath(spaceId), { protocols: ['stello.v1'] });
      expect(onlyVersion.status).toBe(401);
    });

    it('answers a key subprotocol offered without stello.v1 with 400', async () => {
      const refused = await refusedUpgrade(wsPath(spaceId), { protocols: [`stello.key.${alice.apiKey}`] });
      expect(refused.status).toBe(400);
      expect(parse(refused.body).code).toBe('INVALID_HANDSHAKE');
    });

    it("answers another user's space with 403 and an unknown space with 404", async () => {
      const headers = { 'X-API-Key': alice.apiKey };
      const forbidden = await refusedUpgrade(wsPath(bobSpaceId), { headers });
      expect(forbidden.status).toBe(403);
      expect(parse(forbidden.body).code).toBe('FORBIDDEN');
      const unknown = await refusedUpgrade(wsPath(crypto.randomUUID()), { headers });
      expect(unknown.status).toBe(404);
      expect(parse(unknown.body).code).toBe('SPACE_NOT_FOUND');
    });

    it('survives a client that disconnects during the upgrade', async () => {
      const { port } = new URL(server.wsUrl);
      await new Promise<void>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(
            `GET /spaces/${spaceId}/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
              `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-API-Key: ${alice.apiKey}\r\n\r\n`,
          );
          socket.destroy();
          resolve();
        });
      });
      const client = await connectWs(wsPath(spaceId), { headers: { 'X-API-Key': alice.apiKey } });
      await client.close();
    });

    it('answers with 5xx, without crashing, when authentication itself fails', async () => {
      const broken = await createTestDatabase();
      await broken.drop();
      const httpServer = createServer();
      const gateway = attachWebSocketGateway(httpServer, {
        spaceManager: stack.spaceManager,
        agentPool: stack.agentPool,
        // Its pool is ended: every authentication rejects.
        userStore: new UserStore(new PgStores(broken.pool).users),
        logger: stack.logger,
      });
      await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
      const { port } = httpServer.address() as AddressInfo;
      const refused = await refusedUpgrade(`ws://127.0.0.1:${port}/spaces/${spaceId}/ws`, {
        headers: { 'X-API-Key': alice.apiKey },
      });
      expect(refused.status).toBeGreaterThanOrEqual(500);
      expect(parse(refused.body)).toEqual({ error: expect.any(String), code: expect.any(String) });
      expect(refused.body).not.toContain('pool');
      await gateway.close();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    });

    it('refuses with 503 UNAVAILABLE when the database is down during authentication or the space lookup', async () => {
      const down = createUnreachablePool();
      const dead = new PgStores(down);
      const deps = [
        { spaceManager: stack.spaceManager, userStore: new UserStore(dead.users) },
        { spaceManager: new SpaceManager(dead.spaces), userStore: stack.userStore },
      ];
      try {
        for (const dep of deps) {
          const httpServer = createServer();
          const gateway = attachWebSocketGateway(httpServer, {
            ...dep,
            agentPool: stack.agentPool,
            logger: stack.logger,
          });
          await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
          const { port } = httpServer.address() as AddressInfo;
          const refused = await refusedUpgrade(`ws://127.0.0.1:${port}/spaces/${spaceId}/ws`, {
            headers: { 'X-API-Key': alice.apiKey },
          });
          expect(refused.status).toBe(503);
          expect(parse(refused.body)).toEqual({ error: expect.any(String), code: 'UNAVAILABLE' });
          await gateway.close();
          await new Promise<void>((resolve) => httpServer.close(() => resolve()));
        }
      } finally {
        await down.end();
      }
    });
  });

  describe('frames', () => {
    it('closes a socket that sends a frame over the limit with 1009 and keeps serving others', async () => {
      const client = await connectWs(wsPath(spaceId), { headers: { 'X-API-Key': alice.apiKey } });
      client.send({ type: 'session.message', input: 'x'.repeat(FRAME_LIMIT_BYTES * 2) });
      expect(await client.closed).toBe(1009);
      const other = await connectWs(wsPath(spaceId), { headers: { 'X-API-Key': alice.apiKey } });
      other.send('not json');
      expect(await other.next('error')).toMatchObject({ code: 'PARSE_ERROR' });
      await other.close();
    });
  });

  describe('heartbeat', () => {
    it('terminates a peer that does not answer pings and keeps one that does', async () => {
      const fast = await stack.listen({ heartbeatIntervalMs: 40 });
      const url = `${fast.wsUrl}/spaces/${spaceId}/ws`;
      const headers = { 'X-API-Key': alice.apiKey };
      const healthy = await connectWs(url, { headers });
      const silent = new WebSocket(url, { headers, autoPong: false });
      await new Promise((resolve, reject) => {
        silent.once('open', resolve);
        silent.once('error', reject);
      });
      const code = await new Promise<number>((resolve) => silent.once('close', resolve));
      expect(code).toBe(1006);
      expect(healthy.socket.readyState).toBe(WebSocket.OPEN);
      healthy.send('not json');
      expect(await healthy.next('error')).toMatchObject({ code: 'PARSE_ERROR' });
      await healthy.close();
      await fast.close();
    });
  });

  describe('close', () => {
    it('closes every socket with 1001, then refuses upgrades with 503', async () => {
      const own = await stack.listen();
      const url = `${own.wsUrl}/spaces/${spaceId}/ws`;
      const headers = { 'X-API-Key': alice.apiKey };
      const clients = await Promise.all([connectWs(url, { headers }), connectWs(url, { headers })]);
      expect(own.gateway.size).toBe(2);
      expect(own.gateway.connections.size).toBe(2);
      await own.gateway.close();
      expect(await Promise.all(clients.map((client) => client.closed))).toEqual([1001, 1001]);
      expect(own.gateway.size).toBe(0);
      const refused = await refusedUpgrade(url, { headers });
      expect(refused.status).toBe(503);
      await own.close();
    });
  });
});
