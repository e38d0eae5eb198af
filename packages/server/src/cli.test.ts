import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

/** Runs the CLI from source, as `pnpm stello` does. */
function spawnCli(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--conditions=@stello-ai/source', '--import', 'tsx', CLI, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function collect(stream: NodeJS.ReadableStream | null): { text: () => string } {
  let text = '';
  stream?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { text: () => text };
}

describe('stello (process)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('exits with 0 for --help and 2 for an unknown command', async () => {
    const help = spawnCli(['--help'], {});
    const helpOut = collect(help.stdout);
    const [helpCode] = await once(help, 'exit');
    expect(helpCode).toBe(0);
    expect(helpOut.text()).toContain('Usage: stello <command>');

    const bad = spawnCli(['nope'], {});
    const badErr = collect(bad.stderr);
    const [badCode] = await once(bad, 'exit');
    expect(badCode).toBe(2);
    expect(badErr.text()).toContain('unknown command "nope"');
  });

  it('serves, then shuts down gracefully on SIGTERM with exit code 0', async () => {
    const child = spawnCli(['serve'], { DATABASE_URL: db.url, PORT: '0' });
    const out = collect(child.stdout);
    const err = collect(child.stderr);
    const exited = once(child, 'exit');
    try {
      const deadline = Date.now() + 30_000;
      let url: string | undefined;
      while (url === undefined) {
        const ready = out
          .text()
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line))
          .find((entry) => entry.event === 'server.ready');
        url = ready?.url;
        if (url === undefined) {
          if (Date.now() > deadline || child.exitCode !== null)
            throw new Error(`serve did not start: ${err.text()}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      child.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
      expect(out.text()).toContain('"event":"server.closed"');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
