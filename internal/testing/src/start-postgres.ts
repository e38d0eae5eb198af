import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEmbeddedPostgres } from '@internal/embedded-postgres';
import type { TestPostgresSource } from './provided-context';

/** Environment variable naming an existing server to test against (admin URL). */
export const TEST_DATABASE_URL_ENV = 'STELLO_TEST_DATABASE_URL';

/** How long the Docker probe may take before we fall back to the embedded server. */
const DOCKER_PROBE_TIMEOUT_MS = 3_000;

/** Image used when the compose file cannot be read; keep in step with docker-compose.yml. */
const FALLBACK_POSTGRES_IMAGE = 'postgres:17-alpine';

/** How many lines of the embedded server's output are kept for error messages. */
const LOG_TAIL_LINES = 40;

/** A PostgreSQL server for one test run. */
export interface TestPostgresServer {
  /** URL of a role that may create and drop databases. */
  adminUrl: string;
  /** How the server was obtained. */
  source: TestPostgresSource;
  /** Stops what this run started (nothing for `env`). */
  stop(): Promise<void>;
}

/**
 * Finds or starts the PostgreSQL server of a test run.
 *
 * In order: `STELLO_TEST_DATABASE_URL` when set; a testcontainers `postgres` container when a
 * Docker engine answers within a few seconds; otherwise an embedded PostgreSQL in a temporary
 * directory on a free port, deleted when stopped.
 */
export async function startPostgres(): Promise<TestPostgresServer> {
  const envUrl = process.env[TEST_DATABASE_URL_ENV]?.trim();
  if (envUrl) return { adminUrl: envUrl, source: 'env', stop: async () => {} };
  if (await dockerAnswers()) return startContainer();
  return startEmbedded();
}

async function dockerAnswers(): Promise<boolean> {
  // Probing costs seconds and loads testcontainers, so only probe when there is a hint of Docker.
  const hints = [
    '/var/run/docker.sock',
    join(homedir(), '.docker', 'run', 'docker.sock'),
    join(homedir(), '.testcontainers.properties'),
    ...(process.env.XDG_RUNTIME_DIR ? [join(process.env.XDG_RUNTIME_DIR, 'docker.sock')] : []),
  ];
  if (!process.env.DOCKER_HOST && !hints.some((path) => existsSync(path))) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await withTimeout(getContainerRuntimeClient(), DOCKER_PROBE_TIMEOUT_MS);
    return true;
  } catch {
    return false;
  }
}

async function startContainer(): Promise<TestPostgresServer> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer(composePostgresImage()).start();
  return {
    adminUrl: container.getConnectionUri(),
    source: 'container',
    stop: async () => {
      await container.stop();
    },
  };
}

/** The `postgres` image of docker-compose.yml, so the version is pinned in one place. */
function composePostgresImage(): string {
  try {
    const compose = readFileSync(new URL('../../../docker-compose.yml', import.meta.url), 'utf8');
    return /^\s*image:\s*['"]?(postgres:[^\s'"]+)/m.exec(compose)?.[1] ?? FALLBACK_POSTGRES_IMAGE;
  } catch {
    return FALLBACK_POSTGRES_IMAGE;
  }
}

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /**
   * Keep PostgreSQL's default durability (fsync, synchronous commit), as a benchmark must; off by
   * default, because test data is thrown away and durability only costs time.
   */
  durable?: boolean;
  /** `max_connections` (default 300: test files run in parallel, each with its own pool). */
  maxConnections?: number;
}

/** An embedded PostgreSQL started by {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresServer {
  /** URL of the `postgres` superuser on the `postgres` database. */
  adminUrl: string;
  /** Stops the server (bounded: it never hangs) and deletes its data directory. */
  stop(): Promise<void>;
}

// embedded-postgres waits for an exit event that never comes when PostgreSQL already stopped
// (Ctrl-C signals the whole process group), so stopping is bounded.
const STOP_TIMEOUT_MS = 10_000;

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package in a temporary directory, on a
 * free loopback port, reachable only over TCP on 127.0.0.1. Works as root (PostgreSQL then runs
 * as a `postgres` user).
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgresServer> {
  const { EmbeddedPostgres } = await loadEmbeddedPostgres();
  const dataDir = await mkdtemp(join(tmpdir(), 'stello-pg-'));
  const port = await freePort();
  const password = randomBytes(16).toString('hex');
  const logTail: string[] = [];
  const remember = (message: unknown) => {
    logTail.push(
      ...String(message instanceof Error ? message.message : message)
        .split('\n')
        .filter(Boolean),
    );
    logTail.splice(0, Math.max(0, logTail.length - LOG_TAIL_LINES));
  };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: options.durable ? ['--encoding=UTF8'] : ['--encoding=UTF8', '--no-sync'],
    postgresFlags: [
      // Only TCP on loopback, and the Unix socket inside the data dir (not a shared /tmp).
      ...['-c', 'listen_addresses=127.0.0.1', '-k', dataDir],
      ...(options.durable
        ? []
        : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
      ...['-c', `max_connections=${options.maxConnections ?? 300}`],
    ],
    onLog: remember,
    onError: remember,
  });
  let started = false;
  const stop = async () => {
    if (started) await withTimeout(server.stop(), STOP_TIMEOUT_MS).catch(() => {});
    started = false;
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await server.initialise();
    await server.start();
    started = true;
  } catch (error) {
    await stop().catch(() => {});
    const reason = error instanceof Error ? error.message : 'the server exited during start-up';
    throw new Error(`embedded postgresql failed to start: ${reason}\n${logTail.join('\n')}`, {
      cause: error,
    });
  }
  return { adminUrl: `postgresql://postgres:${password}@127.0.0.1:${port}/postgres`, stop };
}

async function startEmbedded(): Promise<TestPostgresServer> {
  return { ...(await startEmbeddedPostgres()), source: 'embedded' };
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

function withTimeout<TValue>(promise: Promise<TValue>, ms: number): Promise<TValue> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
