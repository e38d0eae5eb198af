import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import type { Context, Env, Hono } from 'hono';

// `GET /console`: the web console, whose built files come from the @stello-ai/console package's
// dist/ (no CDN). The page needs no key; it calls the API with the key the person types, from
// this origin only (its CSP allows no other). Built file names carry a content hash, so they are
// cached for a year; the page itself is revalidated.

/** Path of the web console. */
export const CONSOLE_PATH = '/console';

/** Scripts, styles and requests only to this origin; no inline script. */
const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

// A built asset's name: letters, digits, dots, dashes and underscores, never a path.
const ASSET_NAME = /^[\w-]+(\.[\w-]+)*$/;

const NOT_BUILT_MESSAGE =
  'the console is not built: run `pnpm --filter @stello-ai/console build` (pnpm start does it)';

/** Options of {@link registerConsoleRoutes}. */
export interface ConsoleRoutesOptions {
  /** The directory of the built console (default: the @stello-ai/console package's `dist`). */
  distDir?: string;
}

/** The built console's directory inside the installed @stello-ai/console package. */
export function consoleDistDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@stello-ai/console/package.json')), 'dist');
}

/**
 * Registers `GET /console` (and `/console/`) and its files under `/console/assets/`. When the
 * console is not built, the page answers 503 `UNAVAILABLE` saying how to build it.
 */
export function registerConsoleRoutes<TEnv extends Env>(
  app: Hono<TEnv>,
  options: ConsoleRoutesOptions = {},
): void {
  const distDir = options.distDir ?? consoleDistDir();
  const cache = new Map<string, Promise<Buffer>>();
  // Read once per process; a failed read (not built yet) is tried again by the next request.
  const read = (relative: string): Promise<Buffer> => {
    let bytes = cache.get(relative);
    if (!bytes) {
      bytes = readFile(join(distDir, relative));
      bytes.catch(() => cache.delete(relative));
      cache.set(relative, bytes);
    }
    return bytes;
  };

  const page = async (c: Context<TEnv>) => {
    let html: Buffer;
    try {
      html = await read('index.html');
    } catch {
      return c.json({ error: NOT_BUILT_MESSAGE, code: 'UNAVAILABLE' }, 503);
    }
    return c.body(new Uint8Array(html), 200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-cache',
      'Content-Security-Policy': CONSOLE_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
  };
  app.get(CONSOLE_PATH, page);
  app.get(`${CONSOLE_PATH}/`, page);
  app.get(`${CONSOLE_PATH}/assets/:name`, async (c) => {
    const name = c.req.param('name');
    const type = CONTENT_TYPES[extname(name)];
    if (!ASSET_NAME.test(name) || type === undefined) return c.notFound();
    let bytes: Buffer;
    try {
      bytes = await read(join('assets', name));
    } catch {
      return c.notFound();
    }
    return c.body(new Uint8Array(bytes), 200, {
      'Content-Type': type,
      'Cache-Control': 'public, max-age=31536000, immutable',
      'X-Content-Type-Options': 'nosniff',
    });
  });
}
