import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Hono } from 'hono';
import { asyncApiDocumentJson } from '../asyncapi/document';
import type { AuthEnv } from '../types';
import { openApiDocumentJson } from './document';

// `GET /openapi.json` and `GET /docs` (Swagger UI). The UI's files come from the swagger-ui-dist
// package in node_modules and are served by this server: no CDN, and the page runs under a CSP
// that allows only its own scripts (the initializer is a file, not an inline script).

/** Path of the OpenAPI document. */
export const OPENAPI_PATH = '/openapi.json';
/** Path of the AsyncAPI 3.0 document of the WebSocket and SSE streams. */
export const ASYNCAPI_PATH = '/asyncapi.json';
/** Path of the API reference page. */
export const DOCS_PATH = '/docs';

/** Scripts and data only from this origin; Swagger UI sets inline style attributes, so styles may be inline. */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stello Server API</title>
<link rel="stylesheet" href="${DOCS_PATH}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${DOCS_PATH}/swagger-ui-bundle.js"></script>
<script src="${DOCS_PATH}/init.js"></script>
</body>
</html>
`;

// No call to the public validator badge service (validatorUrl: null): the page talks to this server only.
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: new URL('${OPENAPI_PATH}', window.location.href).href,
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
});
`;

/** The Swagger UI files served under `/docs/`, with their content types. */
const ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
} as const;

type AssetName = keyof typeof ASSETS;

let assetsDir: string | undefined;
const assetCache = new Map<AssetName, Promise<string>>();

/** The swagger-ui-dist directory; throws at start-up when the package is missing. */
function swaggerUiDir(): string {
  assetsDir ??= dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  return assetsDir;
}

/** One asset's text, read once per process. */
function readAsset(name: AssetName): Promise<string> {
  let text = assetCache.get(name);
  if (!text) {
    text = readFile(join(swaggerUiDir(), name), 'utf8');
    // A failed read is retried by the next request.
    text.catch(() => assetCache.delete(name));
    assetCache.set(name, text);
  }
  return text;
}

/**
 * Registers `GET /openapi.json` (the OpenAPI 3.1 document), `GET /asyncapi.json` (the AsyncAPI 3.0
 * document of the streams) and `GET /docs` (Swagger UI with its files under `/docs/`). None needs
 * an API key.
 */
export function registerDocsRoutes(app: Hono<AuthEnv>): void {
  swaggerUiDir();
  app.get(OPENAPI_PATH, (c) =>
    c.body(openApiDocumentJson(), 200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-cache',
    }),
  );
  app.get(ASYNCAPI_PATH, (c) =>
    c.body(asyncApiDocumentJson(), 200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-cache',
    }),
  );
  app.get(DOCS_PATH, (c) =>
    c.html(PAGE, 200, { 'Content-Security-Policy': DOCS_CSP, 'X-Content-Type-Options': 'nosniff' }),
  );
  app.get(`${DOCS_PATH}/init.js`, (c) =>
    c.body(INIT_SCRIPT, 200, { 'Content-Type': ASSETS['swagger-ui-bundle.js'], 'Cache-Control': 'no-cache' }),
  );
  for (const name of Object.keys(ASSETS) as AssetName[]) {
    app.get(`${DOCS_PATH}/${name}`, async (c) =>
      c.body(await readAsset(name), 200, {
        'Content-Type': ASSETS[name],
        'Cache-Control': 'public, max-age=86400',
        'X-Content-Type-Options': 'nosniff',
      }),
    );
  }
}
