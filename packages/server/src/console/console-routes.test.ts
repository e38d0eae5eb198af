import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { createOfflineAdapter } from '@stello-ai/session';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStelloServer } from '../create-stello-server';
import { consoleEnabledByEnv } from './console-from-env';
import { CONSOLE_PATH, registerConsoleRoutes } from './console-routes';

// The routes on a small stand-in for the built console (the real build is tested in a browser by
// console.browser.test.ts), and the option and env switch on a real server.

describe('registerConsoleRoutes', () => {
  let dist: string;
  beforeAll(async () => {
    dist = await mkdtemp(join(tmpdir(), 'stello-console-dist-'));
    await mkdir(join(dist, 'assets'));
    await writeFile(
      join(dist, 'index.html'),
      '<!doctype html><script src="/console/assets/app-1.js"></script>',
    );
    await writeFile(join(dist, 'assets', 'app-1.js'), 'console.log(1)');
    await writeFile(join(dist, 'assets', 'app-1.css'), 'body{}');
    await writeFile(join(dist, 'secret.txt'), 'not an asset');
  });
  afterAll(async () => {
    await rm(dist, { recursive: true, force: true });
  });

  const appWith = (distDir: string) => {
    const app = new Hono();
    registerConsoleRoutes(app, { distDir });
    return app;
  };

  it('serves the page at /console and /console/ under a same-origin CSP', async () => {
    const app = appWith(dist);
    for (const path of [CONSOLE_PATH, `${CONSOLE_PATH}/`]) {
      const page = await app.request(path);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(await page.text()).toContain('/console/assets/app-1.js');
    }
  });

  it('serves built assets with their content type and a long cache', async () => {
    const app = appWith(dist);
    const script = await app.request(`${CONSOLE_PATH}/assets/app-1.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toContain('immutable');
    expect(await script.text()).toBe('console.log(1)');
    const style = await app.request(`${CONSOLE_PATH}/assets/app-1.css`);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('answers 404 for unknown files, other types and paths out of the assets folder', async () => {
    const app = appWith(dist);
    for (const path of [
      `${CONSOLE_PATH}/assets/missing.js`,
      `${CONSOLE_PATH}/assets/..%2Fsecret.txt`,
      `${CONSOLE_PATH}/assets/..%2Findex.html`,
      `${CONSOLE_PATH}/assets/%2E%2E%2F%2E%2E%2Fpackage.json`,
      `${CONSOLE_PATH}/secret.txt`,
      `${CONSOLE_PATH}/assets/../secret.txt`,
    ]) {
      const response = await app.request(path);
      expect(response.status, path).toBe(404);
      expect(await response.text()).not.toContain('not an asset');
    }
  });

  it('answers 503 UNAVAILABLE with how to build when the console is not built', async () => {
    const app = appWith(join(dist, 'nowhere'));
    const page = await app.request(CONSOLE_PATH);
    expect(page.status).toBe(503);
    const body = (await page.json()) as { code: string; error: string };
    expect(body.code).toBe('UNAVAILABLE');
    expect(body.error).toContain('pnpm --filter @stello-ai/console build');
  });

  it('reads STELLO_CONSOLE when the option is not given', () => {
    expect(consoleEnabledByEnv({})).toBe(true);
    expect(consoleEnabledByEnv({ STELLO_CONSOLE: 'on' })).toBe(true);
    for (const off of ['off', 'false', '0', 'no', ' OFF ']) {
      expect(consoleEnabledByEnv({ STELLO_CONSOLE: off })).toBe(false);
    }
  });
});

describe('the console option of createStelloServer', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  const serverWith = (consoleOption?: boolean) =>
    createStelloServer({
      pool: db.pool,
      agentPoolOptions: { model: createOfflineAdapter() },
      controlChannel: false,
      ...(consoleOption !== undefined && { console: consoleOption }),
    });

  it('registers /console without an API key by default', async () => {
    const server = await serverWith();
    // 200 once built, 503 before: either way the route is there, and it asks for no key.
    expect([200, 503]).toContain((await server.app.request(CONSOLE_PATH)).status);
    server.agentPool.dispose();
  });

  it('serves no console with console: false', async () => {
    const server = await serverWith(false);
    expect((await server.app.request(CONSOLE_PATH)).status).toBe(404);
    expect((await server.app.request(`${CONSOLE_PATH}/assets/index.js`)).status).toBe(404);
    server.agentPool.dispose();
  });
});
