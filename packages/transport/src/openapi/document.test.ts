import { readFile } from 'node:fs/promises';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ERROR_CODES, UUID_PATTERN } from '@stello-ai/protocol';
import { isUuid } from '@stello-ai/runtime';
import { describe, expect, it } from 'vitest';
import { createApp } from '../create-app';
import { ERROR_STATUS } from '../error-mapping';
import { DOCS_PATH } from './docs-routes';
import { createOpenApiDocument, openApiDocumentJson, toOpenApiPath } from './document';
import { ROUTES } from './route-table';

const COMMITTED = new URL('../../../../docs/openapi.json', import.meta.url);
const HTTP_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

/** `METHOD /path` of every route the Hono app registers (middleware and the UI's own files left out). */
function appRoutes(): string[] {
  // Route enumeration only: nothing is called, so the dependencies are never used.
  const app = createApp({
    spaceManager: {} as never,
    agentPool: {} as never,
    userStore: {} as never,
    spaceEvents: { subscribe: () => () => {} },
    subtrees: {} as never,
  });
  return app.routes
    .filter((route) => HTTP_METHODS.has(route.method.toLowerCase()))
    .filter((route) => route.path !== DOCS_PATH && !route.path.startsWith(`${DOCS_PATH}/`))
    .map((route) => `${route.method.toUpperCase()} ${toOpenApiPath(route.path)}`);
}

/** `METHOD /path` of every operation of the document. */
function documentedRoutes(document: { paths?: Record<string, object> }): string[] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => HTTP_METHODS.has(method))
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
}

describe('createOpenApiDocument', () => {
  it('matches the committed docs/openapi.json', async () => {
    const committed = await readFile(COMMITTED, 'utf8').catch(() => '');
    expect(
      committed === openApiDocumentJson(),
      'docs/openapi.json differs from the generated document: run `pnpm openapi` and commit the result',
    ).toBe(true);
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(openApiDocumentJson()));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // The validator does reject a broken document: a response without its description.
    const broken = JSON.parse(openApiDocumentJson());
    delete broken.paths['/healthz'].get.responses['200'].description;
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('documents every route the app registers, and no other (the WebSocket upgrade aside)', () => {
    const gateway = ROUTES.filter((route) => route.gateway).map(
      (route) => `${route.method.toUpperCase()} ${toOpenApiPath(route.path)}`,
    );
    expect(gateway).toEqual(['GET /spaces/{spaceId}/ws']);
    const documented = documentedRoutes(createOpenApiDocument()).filter((route) => !gateway.includes(route));
    expect(documented.sort()).toEqual(appRoutes().sort());
  });

  it('puts the API key on every route but the public ones', () => {
    const document = createOpenApiDocument();
    for (const route of ROUTES) {
      const paths = document.paths as Record<string, Record<string, { security?: unknown }>>;
      const operation = paths[toOpenApiPath(route.path)]?.[route.method];
      expect(operation?.security, `${route.method} ${route.path}`).toEqual(
        route.public ? [] : [{ ApiKey: [] }],
      );
      expect(route.public ?? false).toBe(!route.path.startsWith('/spaces'));
    }
  });

  it('lists every error code with its status, and each route under the status of its codes', () => {
    const document = createOpenApiDocument();
    for (const code of ERROR_CODES) {
      expect(document.info.description).toContain(`\`${code}\`: ${ERROR_STATUS[code]}`);
    }
    const turn = document.paths?.['/spaces/{spaceId}/sessions/{id}/turn']?.post;
    expect(turn?.responses?.['409']).toMatchObject({
      'x-error-codes': expect.arrayContaining(['SESSION_BUSY']),
    });
    expect(turn?.responses?.['401']).toMatchObject({
      'x-error-codes': ['MISSING_API_KEY', 'INVALID_API_KEY'],
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
    });
  });

  it('carries the WebSocket and SSE frames as component schemas', () => {
    const schemas = createOpenApiDocument().components?.schemas ?? {};
    for (const name of [
      'ClientMessage',
      'ServerFrame',
      'TurnStreamFrame',
      'SpaceEvent',
      'StreamDeltaFrame',
    ]) {
      expect(schemas[name], name).toBeDefined();
    }
    expect(Object.keys(schemas).filter((name) => name.endsWith('Output'))).toEqual([]);
  });
});

describe('the protocol package and the layers agree', () => {
  it('lists exactly the codes of the status table', () => {
    expect([...ERROR_CODES].sort()).toEqual(Object.keys(ERROR_STATUS).sort());
  });

  it('accepts the same ids as the runtime', () => {
    const samples = [
      '3F2504E0-4F89-11D3-9A0C-0305E82C3301',
      '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
      '3f2504e0-4f89-11d3-9a0c-0305e82c330',
      '3f2504e04f8911d39a0c0305e82c3301',
      'zf2504e0-4f89-11d3-9a0c-0305e82c3301',
      '',
    ];
    for (const sample of samples) expect(UUID_PATTERN.test(sample), sample).toBe(isUuid(sample));
  });
});
