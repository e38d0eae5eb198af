import { describe, expect, it } from 'vitest';
import { createApp } from '../create-app';
import { openApiDocumentJson } from './document';

// Routes that need no dependency: nothing behind them is ever called.
function app(docs?: boolean) {
  return createApp({
    spaceManager: {} as never,
    agentPool: {} as never,
    userStore: {} as never,
    ...(docs !== undefined && { docs }),
  });
}

describe('registerDocsRoutes', () => {
  it('serves the OpenAPI document without an API key', async () => {
    const response = await app().request('/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await response.text();
    expect(text).toBe(openApiDocumentJson());
    expect(JSON.parse(text).openapi).toBe('3.1.0');
  });

  it('serves Swagger UI from node_modules under a CSP that allows only its own scripts', async () => {
    const docs = app();
    const page = await docs.request('/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    const html = await page.text();
    // No inline script and nothing from another origin.
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
    expect(html).not.toMatch(/https?:\/\//);
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] as string);
    expect(sources.sort()).toEqual(['/docs/init.js', '/docs/swagger-ui-bundle.js', '/docs/swagger-ui.css']);

    const bundle = await docs.request('/docs/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
    const css = await docs.request('/docs/swagger-ui.css');
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(await css.text()).toContain('.swagger-ui');
    const init = await (await docs.request('/docs/init.js')).text();
    expect(init).toContain("'/openapi.json'");
    expect(init).toContain('validatorUrl: null');
  });

  it('serves neither with docs: false', async () => {
    const off = app(false);
    for (const path of ['/openapi.json', '/docs', '/docs/swagger-ui-bundle.js']) {
      const response = await off.request(path);
      expect(response.status, path).toBe(404);
      expect(await response.json()).toMatchObject({ code: 'NOT_FOUND' });
    }
  });
});
