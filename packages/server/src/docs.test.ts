import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { createOfflineAdapter } from '@stello-ai/session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStelloServer } from './create-stello-server';
import { docsEnabledByEnv } from './docs-from-env';

describe('the docs option of createStelloServer', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  const serverWith = (docs?: boolean) =>
    createStelloServer({
      pool: db.pool,
      agentPoolOptions: { model: createOfflineAdapter() },
      controlChannel: false,
      ...(docs !== undefined && { docs }),
    });

  it('serves /openapi.json, /asyncapi.json and /docs over HTTP without an API key by default', async () => {
    const server = await serverWith();
    const { port, close } = await server.listen(0);
    try {
      const document = await fetch(`http://127.0.0.1:${port}/openapi.json`);
      expect(document.status).toBe(200);
      const body = (await document.json()) as { openapi: string; paths: Record<string, unknown> };
      expect(body.openapi).toBe('3.1.0');
      expect(Object.keys(body.paths)).toContain('/spaces/{spaceId}/sessions/{id}/turn');
      const page = await fetch(`http://127.0.0.1:${port}/docs`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect((await fetch(`http://127.0.0.1:${port}/docs/swagger-ui-bundle.js`)).status).toBe(200);
      const streams = (await (await fetch(`http://127.0.0.1:${port}/asyncapi.json`)).json()) as {
        asyncapi: string;
        channels: Record<string, { address: string }>;
      };
      expect(streams.asyncapi).toBe('3.0.0');
      expect(streams.channels.spaceSocket?.address).toBe('/spaces/{spaceId}/ws');
    } finally {
      await close();
    }
  });

  it('serves neither with docs: false', async () => {
    const server = await serverWith(false);
    expect((await server.app.request('/openapi.json')).status).toBe(404);
    expect((await server.app.request('/docs')).status).toBe(404);
    expect((await server.app.request('/asyncapi.json')).status).toBe(404);
    server.agentPool.dispose();
  });

  it('reads STELLO_DOCS when the option is not given', () => {
    expect(docsEnabledByEnv({})).toBe(true);
    expect(docsEnabledByEnv({ STELLO_DOCS: 'on' })).toBe(true);
    for (const off of ['off', 'false', '0', 'no', ' OFF '])
      expect(docsEnabledByEnv({ STELLO_DOCS: off })).toBe(false);
  });
});
