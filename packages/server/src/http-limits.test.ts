import { request } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { createPool } from '@stello-ai/db';
import { createOfflineAdapter } from '@stello-ai/session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStelloServer } from './create-stello-server';

// Clients that hold connections open without finishing a request, and databases that do not
// answer, are bounded in time (issue: one tenant must never hurt another).
describe('HTTP and pool time limits', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());

  it('closes sockets that hold partial headers after headersTimeoutMs', async () => {
    const server = await createStelloServer({
      pool: db.pool,
      agentPoolOptions: { model: createOfflineAdapter() },
      limits: { headersTimeoutMs: 500, maxConnections: 20 },
    });
    const { port, close } = await server.listen(0);
    try {
      const started = Date.now();
      const sockets = Array.from({ length: 10 }, () => connect(port, '127.0.0.1'));
      const closedAfter = sockets.map(
        (socket) =>
          new Promise<number>((resolve) => {
            socket.on('error', () => {});
            socket.resume();
            socket.once('connect', () => socket.write('GET /healthz HTTP/1.1\r\nHost: slow\r\n'));
            socket.once('close', () => resolve(Date.now() - started));
          }),
      );
      const times = await Promise.all(closedAfter);
      expect(Math.max(...times)).toBeLessThan(3_000);
      expect(Math.min(...times)).toBeGreaterThanOrEqual(400);
      // A complete request is still served.
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      await close();
    }
  });

  it('answers a 5 MB body with a 413 the client reads, whether its length is declared or chunked', async () => {
    const server = await createStelloServer({
      pool: db.pool,
      agentPoolOptions: { model: createOfflineAdapter() },
    });
    const { user, apiKey } = await server.userStore.createUser('uploader');
    const { port, close } = await server.listen(0);
    const upload = (declared: boolean) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const size = 5 * 1024 * 1024;
        const headers: Record<string, string> = { 'content-type': 'application/json', 'x-api-key': apiKey };
        if (declared) headers['content-length'] = String(size);
        const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/spaces', headers });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (chunk) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        // The server may close once it answered; a write after that fails, the answer stands.
        req.on('error', (error) => setTimeout(() => reject(error), 2_000));
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        let sent = 0;
        const pump = () => {
          while (sent < size) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
    try {
      for (const declared of [true, false]) {
        const answer = await upload(declared);
        expect(answer.status).toBe(413);
        expect(JSON.parse(answer.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      }
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM spaces WHERE user_id = $1', [
        user.id,
      ]);
      expect(rows[0].n).toBe(0);
    } finally {
      await close();
    }
  });

  it('refuses a lone surrogate or invalid UTF-8 with a 400 and stores nothing altered', async () => {
    const server = await createStelloServer({
      pool: db.pool,
      agentPoolOptions: { model: createOfflineAdapter() },
    });
    const { user, apiKey } = await server.userStore.createUser('surrogates');
    const post = (body: string | Uint8Array) =>
      server.app.request('/spaces', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
        body,
      });
    const lone = await post('{"label":"bad \\ud800 label"}');
    expect(lone.status).toBe(400);
    expect(await lone.json()).toMatchObject({ code: 'INVALID_TEXT' });
    const bytes = await post(new Uint8Array([...Buffer.from('{"label":"'), 0xff, ...Buffer.from('"}')]));
    expect(bytes.status).toBe(400);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM spaces WHERE user_id = $1', [
      user.id,
    ]);
    expect(rows[0].n).toBe(0);
    const paired = await post(JSON.stringify({ label: 'fine 😀 你好' }));
    expect(paired.status).toBe(201);
    expect(((await paired.json()) as { label: string }).label).toBe('fine 😀 你好');
  });

  it('explains a port in use in one line', async () => {
    const holder: Server = createServer(() => {});
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as { port: number };
    const server = await createStelloServer({
      pool: db.pool,
      agentPoolOptions: { model: createOfflineAdapter() },
    });
    try {
      await expect(server.listen(port, '127.0.0.1')).rejects.toMatchObject({
        code: 'PORT_IN_USE',
        message: `port ${port} on 127.0.0.1 is already in use: stop the other server, or choose another port (PORT or --port)`,
      });
    } finally {
      holder.close();
    }
  });

  it('fails a connection to a database that never answers within connectionTimeoutMillis', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address() as { port: number };
    const pool = createPool({
      connectionString: `postgresql://nobody@127.0.0.1:${address.port}/none`,
      connectionTimeoutMillis: 300,
    });
    try {
      const started = Date.now();
      await expect(pool.query('SELECT 1')).rejects.toThrow(/timeout/i);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await pool.end();
      silent.close();
    }
  });

  it('sets statement_timeout on every connection (30 s by default, 0 to turn it off)', async () => {
    const defaults = createPool({ connectionString: db.url, max: 1 });
    const off = createPool({ connectionString: db.url, max: 1, statementTimeoutMillis: 0 });
    const short = createPool({ connectionString: db.url, max: 1, statementTimeoutMillis: 100 });
    try {
      expect((await defaults.query('SHOW statement_timeout')).rows[0].statement_timeout).toBe('30s');
      expect((await off.query('SHOW statement_timeout')).rows[0].statement_timeout).toBe('0');
      await expect(short.query('SELECT pg_sleep(1)')).rejects.toMatchObject({ code: '57014' });
    } finally {
      await Promise.all([defaults.end(), off.end(), short.end()]);
    }
  });
});
