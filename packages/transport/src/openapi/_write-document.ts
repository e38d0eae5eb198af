// `pnpm openapi`: writes the generated OpenAPI document to docs/openapi.json, the copy committed
// for the docs (a test fails when it differs from the generated one).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDocumentJson } from './document';

const target = fileURLToPath(new URL('../../../../docs/openapi.json', import.meta.url));
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, openApiDocumentJson());
process.stdout.write(`wrote ${target}\n`);
