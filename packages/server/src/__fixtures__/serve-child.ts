import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));

/** A `stello serve` child process and the URL it announced. */
export interface ServeChild {
  process: ChildProcess;
  url: string;
}

/**
 * Starts `stello serve` from the sources on a free port with `env` (plus PATH), and resolves once
 * it logs `server.ready`; fails with its stderr if it exits or takes over 60 s.
 */
export async function startServeChild(env: Record<string, string>): Promise<ServeChild> {
  const child = spawn(process.execPath, ['--conditions=@stello-ai/source', '--import', 'tsx', CLI, 'serve'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = out
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { event?: string; url?: string })
      .find((entry) => entry.event === 'server.ready');
    if (ready?.url) return { process: child, url: ready.url };
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`serve did not start: ${err}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
