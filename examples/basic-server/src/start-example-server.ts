import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CONSOLE_PATH,
  consoleEnabledByEnv,
  createJsonLogger,
  createModelFromEnv,
  createPool,
  createStelloServer,
  type Logger,
} from '@stello-ai/server';
import { renderBanner } from './banner';
import { prepareDemoAccess } from './demo-access';
import { DEFAULT_EMBEDDED_PG_PORT, type EmbeddedDatabase, startEmbeddedPostgres } from './embedded-postgres';

/** File in the data directory with the embedded database's URL; `stello` CLI commands read it. */
export const DATABASE_URL_FILE = 'database-url';

/** Options of {@link startExampleServer}. */
export interface ExampleServerOptions {
  /** Environment: DATABASE_URL, PORT, HOST, STELLO_API_KEY, STELLO_PG_PORT and the LLM settings. */
  env: Record<string, string | undefined>;
  /** Directory of the embedded PostgreSQL data and the demo key (default `<repo>/.stello-data`). */
  dataDir: string;
  /** Receives the human banner. */
  print: (text: string) => void;
  logger?: Logger;
}

/** A running example server. */
export interface ExampleServer {
  url: string;
  port: number;
  /** Closes the server (draining running turns), the pool, then the embedded PostgreSQL. */
  close(): Promise<void>;
}

function parsePort(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`${name} must be an integer from 0 to 65535, got "${raw}"`);
  }
  return port;
}

function describeDatabase(url: string): string {
  try {
    const parsed = new URL(url);
    return `PostgreSQL at ${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname} (DATABASE_URL)`;
  } catch {
    return 'PostgreSQL from DATABASE_URL';
  }
}

/**
 * Starts the example: PostgreSQL (embedded unless `DATABASE_URL` is set), the Stello server on
 * `PORT`/`HOST` with the model chosen from the environment, demo access, and the banner.
 */
export async function startExampleServer(options: ExampleServerOptions): Promise<ExampleServer> {
  const { env, dataDir, print } = options;
  const logger = options.logger ?? createJsonLogger();
  const port = parsePort('PORT', env.PORT, 3000);
  const host = env.HOST?.trim() || '127.0.0.1';
  const apiKey = env.STELLO_API_KEY?.trim() || undefined;

  let embedded: EmbeddedDatabase | null = null;
  let databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl === undefined) {
    const pgPort = parsePort('STELLO_PG_PORT', env.STELLO_PG_PORT, DEFAULT_EMBEDDED_PG_PORT);
    embedded = await startEmbeddedPostgres({
      dataDir: join(dataDir, 'pg'),
      port: pgPort,
      onError: (message) => logger.warn('embedded_postgres.error', { message }),
    });
    logger.info('embedded_postgres.started', {
      dataDir: embedded.dataDir,
      port: pgPort,
      created: embedded.created,
    });
    databaseUrl = embedded.url;
    // `pnpm stello …` reads it when DATABASE_URL is unset, so the CLI finds this database. (As
    // root in a private checkout the cluster lives elsewhere, so this directory may not exist yet.)
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeFile(join(dataDir, DATABASE_URL_FILE), `${embedded.url}\n`, { mode: 0o600 });
  }

  const pool = createPool({ connectionString: databaseUrl });
  try {
    const { model, provider, description } = createModelFromEnv(env);
    const consoleOn = consoleEnabledByEnv(env);
    const server = await createStelloServer({
      pool,
      agentPoolOptions: { model },
      logger,
      console: consoleOn,
    });
    const access = await prepareDemoAccess({
      userStore: server.userStore,
      apiKey,
      keyFile: embedded === null ? null : join(dataDir, 'demo-key'),
    });
    const listening = await server.listen(port, host);
    // A wildcard bind is reachable on loopback; that is the address a curl on this machine needs.
    const shownHost =
      host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    const url = `http://${shownHost}:${listening.port}`;
    print(
      renderBanner({
        url,
        consoleUrl: consoleOn ? `${url}${CONSOLE_PATH}` : null,
        database:
          embedded === null
            ? describeDatabase(databaseUrl)
            : `embedded PostgreSQL on 127.0.0.1:${embedded.port} (data in ${embedded.dataDir})`,
        model: description,
        offline: provider === 'offline',
        access,
        cliEnv: embedded === null ? '' : `DATABASE_URL=${embedded.url} `,
      }),
    );
    logger.info('example.ready', { url, model: description });

    const db = embedded;
    let closing: Promise<void> | undefined;
    return {
      url,
      port: listening.port,
      close: () => {
        closing ??= (async () => {
          try {
            await listening.close();
            await pool.end();
          } finally {
            await db?.stop();
          }
        })();
        return closing;
      },
    };
  } catch (error) {
    await pool.end().catch(() => {});
    await embedded?.stop();
    throw error;
  }
}
