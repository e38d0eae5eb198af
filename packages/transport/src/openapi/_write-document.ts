// `pnpm openapi`: writes the generated OpenAPI and AsyncAPI documents to docs/openapi.json and
// docs/asyncapi.json, the copies committed for the docs (tests fail when they differ).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncApiDocumentJson } from '../asyncapi/document';
import { openApiDocumentJson } from './document';

for (const [name, json] of [
  ['openapi.json', openApiDocumentJson()],
  ['asyncapi.json', asyncApiDocumentJson()],
] as const) {
  const target = fileURLToPath(new URL(`../../../../docs/${name}`, import.meta.url));
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, json);
  process.stdout.write(`wrote ${target}\n`);
}
