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
