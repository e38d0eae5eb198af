import { readFile } from 'node:fs/promises';
import specs from '@asyncapi/specs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { createApp } from '../create-app';
import { ASYNCAPI_PATH } from '../openapi/docs-routes';
import { createOpenApiDocument } from '../openapi/document';
import { asyncApiDocumentJson, createAsyncApiDocument, toAsyncApiSchema } from './document';

const COMMITTED = new URL('../../../../docs/asyncapi.json', import.meta.url);

/** The official JSON Schema of AsyncAPI 3.0.0 (draft-07), as its maintainers publish it. */
function asyncApiValidator() {
  // The published schema bundles its own copy of the draft-07 meta-schema: Ajv's must stay out.
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    validateFormats: false,
    meta: false,
    validateSchema: false,
  });
  return ajv.compile(specs.schemas['3.0.0']);
}

describe('the AsyncAPI document', () => {
  it('is a valid AsyncAPI 3.0.0 document by the official schema', () => {
    const validate = asyncApiValidator();
    const valid = validate(createAsyncApiDocument());
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('is rejected by the same schema when broken (the check can fail)', () => {
    const validate = asyncApiValidator();
    const broken = { ...createAsyncApiDocument(), channels: { bad: { address: 42 } } };
    expect(validate(broken)).toBe(false);
  });

  it('takes its schemas from the OpenAPI components, so the two cannot drift', () => {
    const document = createAsyncApiDocument() as { components: { schemas: unknown } };
    expect(document.components.schemas).toEqual(
      toAsyncApiSchema(createOpenApiDocument().components?.schemas),
    );
    // Only the dialect differs: AsyncAPI's discriminator is the property name.
    expect(JSON.stringify(document.components.schemas)).toContain('"discriminator":"type"');
  });

  it('resolves every $ref it holds', () => {
    const document = createAsyncApiDocument();
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/([^"]+)"/g)].map((match) => match[1]!);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      const target = ref
        .split('/')
        .reduce<unknown>(
          (node, key) =>
            (node as Record<string, unknown> | undefined)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')],
          document,
        );
      expect(target, ref).toBeDefined();
    }
  });

  it('matches the committed docs/asyncapi.json', async () => {
    const committed = await readFile(COMMITTED, 'utf8');
    expect(
      committed === asyncApiDocumentJson(),
      'docs/asyncapi.json differs from the generated document: run `pnpm openapi` and commit the result',
    ).toBe(true);
  });

  it('is served at GET /asyncapi.json without a key, and not with docs off', async () => {
    // Routes that need no dependency: nothing behind them is ever called.
    const deps = { spaceManager: {} as never, agentPool: {} as never, userStore: {} as never };
    const on = createApp(deps);
    const response = await on.request(ASYNCAPI_PATH);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(asyncApiDocumentJson());
    const off = createApp({ ...deps, docs: false });
    expect((await off.request(ASYNCAPI_PATH)).status).toBe(404);
  });
});
