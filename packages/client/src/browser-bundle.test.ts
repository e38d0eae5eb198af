import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { afterAll, describe, expect, it } from 'vitest';
import packageConfig from '../tsup.config';

// The client must run in browsers: its bundle, built with the package's own tsup options
// (`platform: 'browser'`), references no Node built-in and imports nothing at all.

const PACKAGE_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const NODE_MODULES =
  'node:[\\w/]+|fs|fs/promises|net|http|https|http2|crypto|path|url|os|stream|events|buffer|child_process|tls|zlib|util|worker_threads';

/** What in `code` needs Node: built-in module imports, `require`, `process`, `Buffer`, `__dirname`. */
export function nodeReferences(code: string): string[] {
  const patterns = [
    new RegExp(`(?:from|import|require)\\s*\\(?\\s*["'](?:${NODE_MODULES})["']`, 'g'),
    /\brequire\s*\(/g,
    /\bprocess\s*\./g,
    /\bBuffer\b/g,
    /\b__(?:dirname|filename)\b/g,
  ];
  return patterns.flatMap((pattern) => code.match(pattern) ?? []);
}

describe('the browser bundle', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('finds Node references in code that has them', () => {
    const code = `import { randomUUID } from "node:crypto";\nimport fs from 'fs';\nconst b = Buffer.from(process.env.X);`;
    expect(nodeReferences(code)).toEqual(['from "node:crypto"', "from 'fs'", 'process.', 'Buffer']);
  });

  it('builds with no Node built-in and no import left', async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'stello-client-bundle-'));
    dirs.push(outDir);
    const options = typeof packageConfig === 'function' ? {} : packageConfig;
    expect(options).toMatchObject({ platform: 'browser' });
    await build({
      ...(Array.isArray(options) ? options[0] : options),
      config: false,
      entry: [path.join(PACKAGE_DIR, 'src/index.ts')],
      outDir,
      format: ['esm'],
      dts: false,
      sourcemap: false,
      clean: false,
      silent: true,
    });
    const files = (await readdir(outDir)).filter((file) => file.endsWith('.js'));
    expect(files).toEqual(['index.js']);
    const code = await readFile(path.join(outDir, 'index.js'), 'utf8');
    expect(code).toContain('createStelloClient');
    expect(nodeReferences(code)).toEqual([]);
    // Type-only imports of the server's packages are erased: the bundle stands alone.
    expect(code).not.toMatch(/^\s*import\s/m);
    expect(code).not.toContain('@stello-ai/');
  });
});
