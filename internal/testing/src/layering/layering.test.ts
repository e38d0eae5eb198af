import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// The layering check of `pnpm lint`, run as lint runs it: the depcruise CLI with the root config.
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const config = join(root, '.dependency-cruiser.cjs');
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');
const run = promisify(execFile);

async function cruise(cwd: string, paths: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout } = await run(depcruise, [...paths, '--config', config], { cwd });
    return { ok: true, output: stdout };
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${stdout}${stderr}` };
  }
}

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A tiny workspace in a temporary directory: `files` maps paths to contents. */
async function workspace(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stello-layers-'));
  scratch.push(dir);
  const all = {
    'tsconfig.json': '{ "compilerOptions": { "module": "ESNext", "moduleResolution": "Bundler" } }',
    ...files,
  };
  for (const [path, content] of Object.entries(all)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

describe('the layering check of pnpm lint', () => {
  it('passes on the real tree', async () => {
    const result = await cruise(root, ['packages', 'internal', 'examples', 'bench']);
    expect(result.output).toContain('no dependency violations found');
    expect(result.ok).toBe(true);
  });

  it('fails on transport importing db, storage importing runtime, a circle and SQL above storage', async () => {
    const dir = await workspace({
      'packages/db/src/index.ts': 'export const db = 1;\n',
      'packages/runtime/src/index.ts': 'export const runtime = 1;\n',
      'packages/transport/src/app.ts': "import { db } from '../../db/src/index';\nexport const app = db;\n",
      'packages/storage/src/store.ts':
        "import { runtime } from '../../runtime/src/index';\nexport const store = runtime;\n",
      'packages/core/src/a.ts': "import { b } from './b';\nexport const a = () => b;\n",
      'packages/core/src/b.ts': "import { a } from './a';\nexport const b = () => a;\n",
    });
    const result = await cruise(dir, ['packages']);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(
      /layer-transport: packages\/transport\/src\/app\.ts → packages\/db\/src\/index\.ts/,
    );
    expect(result.output).toMatch(
      /layer-storage: packages\/storage\/src\/store\.ts → packages\/runtime\/src\/index\.ts/,
    );
    expect(result.output).toMatch(/no-circular: packages\/core\/src\/a\.ts/);
  });

  it('fails on an import of a workspace package the importer does not declare', async () => {
    // Undeclared, '@stello-ai/db' cannot resolve from transport: the layer rules never see it.
    const dir = await workspace({
      'packages/transport/src/app.ts': "import { db } from '@stello-ai/db';\nexport const app = db;\n",
    });
    const result = await cruise(dir, ['packages']);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(
      /workspace-imports-resolve: packages\/transport\/src\/app\.ts → @stello-ai\/db/,
    );
  });

  it('keeps the protocol at the bottom and free of Node built-ins (it ships to browsers)', async () => {
    const dir = await workspace({
      'packages/errors/src/index.ts': 'export const errors = 1;\n',
      'packages/protocol/src/schemas.ts':
        "import { errors } from '../../errors/src/index';\nimport { readFileSync } from 'node:fs';\nexport const s = [errors, readFileSync];\n",
    });
    const result = await cruise(dir, ['packages']);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(
      /layer-protocol: packages\/protocol\/src\/schemas\.ts → packages\/errors\/src\/index\.ts/,
    );
    expect(result.output).toMatch(/browser-client: packages\/protocol\/src\/schemas\.ts → (node:)?fs/);
  });

  it('lets tests reach test helpers but keeps them out of published code', async () => {
    const dir = await workspace({
      'internal/testing/src/index.ts': 'export const helper = 1;\n',
      'packages/session/src/__fixtures__/fixture.ts':
        "import { helper } from '../../../../internal/testing/src/index';\nexport const f = helper;\n",
      'packages/session/src/thing.test.ts':
        "import { helper } from '../../../internal/testing/src/index';\nimport { f } from './__fixtures__/fixture';\nexport const t = [helper, f];\n",
      'packages/session/src/thing.ts':
        "import { helper } from '../../../internal/testing/src/index';\nimport { f } from './__fixtures__/fixture';\nexport const t = [helper, f];\n",
    });
    const result = await cruise(dir, ['packages', 'internal']);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/testing-only-in-tests: packages\/session\/src\/thing\.ts/);
    expect(result.output).toMatch(/fixtures-only-in-tests: packages\/session\/src\/thing\.ts/);
    expect(result.output).not.toMatch(/__fixtures__\/fixture\.ts →/);
    expect(result.output).not.toMatch(/thing\.test\.ts/);
  });

  it('lets the client take types from transport, and nothing at run time, nor Node built-ins', async () => {
    const dir = await workspace({
      'packages/transport/src/index.ts': 'export type Frame = { type: string };\nexport const WS = 1;\n',
      'packages/server/src/index.ts': 'export const server = 1;\n',
      'packages/client/src/wire.ts':
        "import type { Frame } from '../../transport/src/index';\nexport type { Frame } from '../../transport/src/index';\nexport type F = Frame;\n",
      'packages/client/src/values.ts':
        "import { WS } from '../../transport/src/index';\nexport const ws = WS;\n",
      'packages/client/src/random.ts':
        "import { randomUUID } from 'node:crypto';\nexport const id = randomUUID;\n",
      'packages/client/src/client.test.ts':
        "import { server } from '../../server/src/index';\nimport { randomUUID } from 'node:crypto';\nexport const t = [server, randomUUID];\n",
    });
    const result = await cruise(dir, ['packages']);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/client-types-only: packages\/client\/src\/values\.ts/);
    expect(result.output).toMatch(/browser-client: packages\/client\/src\/random\.ts/);
    expect(result.output).not.toMatch(/wire\.ts/);
    expect(result.output).not.toMatch(/client\.test\.ts/);
  });
});
