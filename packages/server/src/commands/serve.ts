import { createPool } from '@stello-ai/db';
import { createJsonLogger, isLogThreshold, LOG_THRESHOLDS, type LogThreshold } from '@stello-ai/runtime';
import { createModelFromEnv } from '../create-model-from-env';
import { createStelloServer } from '../create-stello-server';
import { seedApiKey } from '../seed-api-key';
import { telemetryEnabledByEnv } from '../telemetry';
import {
  type CliContext,
  CliUsageError,
  DATABASE_OPTIONS,
  EXIT_OK,
  parseCommandArgs,
  resolveDatabaseUrl,
} from './_context';
import { agentPoolLimitsFromEnv, limitsFromEnv, poolTimeoutsFromEnv } from './limits-from-env';

/** Port `stello serve` listens on when neither `--port` nor `PORT` is given. */
export const DEFAULT_PORT = 3000;
/** Host `stello serve` binds when neither `--host` nor `HOST` is given (use 0.0.0.0 in containers). */
export const DEFAULT_HOST = '127.0.0.1';

/** Help text of `stello serve`. */
export const SERVE_HELP = `Usage: stello serve [--port N] [--host HOST] [--database-url URL]

Migrates the database, then serves the REST API and the WebSocket gateway until SIGINT/SIGTERM,
when it shuts down gracefully (running turns finish first). Logs are JSON lines on stdout.

Options:
  --port N             port to listen on (default: $PORT, else ${DEFAULT_PORT}; 0 picks a free one)
  --host HOST          address to bind (default: $HOST, else ${DEFAULT_HOST}; 0.0.0.0 in containers)
  --database-url URL   PostgreSQL connection string (default: $DATABASE_URL; required)
  -h, --help           show this help

Environment:
  DATABASE_URL, PORT, HOST      as above
  LOG_LEVEL                     lowest level logged: trace, debug, info (default), warn, error,
                                fatal or silent. Keys, prompts and answers are never logged.
  STELLO_API_KEY                makes sure a user with this API key exists (idempotent)
  ANTHROPIC_API_KEY             use Claude (model: $STELLO_MODEL, default claude-sonnet-5)
  OPENAI_API_KEY                use an OpenAI-compatible endpoint (model: $STELLO_MODEL, default gpt-4o-mini)
  OPENAI_BASE_URL               endpoint of an OpenAI-compatible server (Ollama, vLLM, DeepSeek…)
  STELLO_MODEL                  model name for the provider above
  STELLO_PREPARED_STATEMENTS    false behind a pooler that cannot keep prepared statements
                                (PgBouncer in transaction mode before 1.21); default true
  STELLO_METRICS                Prometheus metrics at /metrics, no key: keep it internal (default on; off)
  STELLO_DOCS                   GET /openapi.json, /asyncapi.json and /docs (Swagger UI), no key (default on; off)
  STELLO_OTEL                   on: OpenTelemetry spans of turns, LLM calls and SQL, to the SDK
                                registered by a preloaded module (NODE_OPTIONS=--import …); default off
  STELLO_CONSOLE                the web console at GET /console; the page asks for a key (default on; off)
  STELLO_CORS_ORIGINS           origins allowed to call the API from browsers, comma-separated
                                (default: none, CORS off; * allows any)
  STELLO_TURNS_PER_MINUTE       turns per minute of a key without its own limit, across all
                                servers (default: none; set per key with \`stello keys limits\`)
  STELLO_STREAMS_PER_KEY        streams a key without its own limit may run at once (default: none)
  STELLO_CONNECT_TIMEOUT_MS     opening a database connection may take this long (default 10000)
  STELLO_STATEMENT_TIMEOUT_MS   longest SQL statement (default 30000; 0 off, e.g. behind PgBouncer)
  STELLO_*_BYTES, STELLO_WS_*, STELLO_HEADERS_TIMEOUT_MS, STELLO_REQUEST_TIMEOUT_MS,
  STELLO_MAX_CONNECTIONS        limits: see "Limits" in the server README
  STELLO_DIRECT_DATABASE_URL    direct PostgreSQL URL of the control channel (LISTEN) when
                                DATABASE_URL goes through a transaction pooler
  With no LLM key the server runs the offline model, which answers locally without a network.`;

function parsePort(raw: string): number {
  const port = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(port) || port > 65_535) {
    throw new CliUsageError(`invalid port "${raw}": expected an integer from 0 to 65535`, 'serve');
  }
  return port;
}

/** `STELLO_PREPARED_STATEMENTS`: true unless set to false, 0, no or off. */
function parsePreparedStatements(raw: string | undefined): boolean {
  const value = raw?.trim().toLowerCase() ?? '';
  if (value === '' || ['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new CliUsageError(`invalid STELLO_PREPARED_STATEMENTS "${raw}": expected true or false`, 'serve');
}

/** `LOG_LEVEL`: a pino level name (default info). */
function parseLogLevel(raw: string | undefined): LogThreshold {
  const value = raw?.trim().toLowerCase() ?? '';
  if (value === '') return 'info';
  if (!isLogThreshold(value)) {
    throw new CliUsageError(
      `invalid LOG_LEVEL "${raw}": expected one of ${LOG_THRESHOLDS.join(', ')}`,
      'serve',
    );
  }
  return value;
}

/** `STELLO_CORS_ORIGINS`: comma-separated origins allowed to call the API from browsers. */
function corsFromEnv(env: NodeJS.ProcessEnv): { corsOrigins?: string[] } {
  const origins = (env.STELLO_CORS_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);
  return origins.length > 0 ? { corsOrigins: origins } : {};
}

function waitForAbort(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal === undefined) return;
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** `stello serve`: runs the server until `ctx.signal` aborts. */
export async function runServe(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('serve', args, {
    ...DATABASE_OPTIONS,
    port: { type: 'string' },
    host: { type: 'string' },
  });
  if (values.help) {
    ctx.stdout(SERVE_HELP);
    return EXIT_OK;
  }
  const url = resolveDatabaseUrl('serve', values['database-url'], ctx);
  const port = parsePort(values.port ?? ctx.env.PORT ?? String(DEFAULT_PORT));
  const host = values.host ?? ctx.env.HOST ?? DEFAULT_HOST;
  const preparedStatements = parsePreparedStatements(ctx.env.STELLO_PREPARED_STATEMENTS);
  const logger = createJsonLogger({ write: ctx.stdout, level: parseLogLevel(ctx.env.LOG_LEVEL) });
  const { model, provider, description } = createModelFromEnv(ctx.env);

  const limits = limitsFromEnv(ctx.env);
  const pool = createPool({ connectionString: url, ...poolTimeoutsFromEnv(ctx.env) });
  try {
    const server = await createStelloServer({
      pool,
      agentPoolOptions: { model, ...agentPoolLimitsFromEnv(ctx.env) },
      storage: { preparedStatements },
      limits,
      ...corsFromEnv(ctx.env),
      metrics: {
        enabled: !['false', '0', 'off', 'no'].includes((ctx.env.STELLO_METRICS ?? '').trim().toLowerCase()),
      },
      logger,
      telemetry: telemetryEnabledByEnv(ctx.env) ? {} : false,
    });
    const apiKey = ctx.env.STELLO_API_KEY?.trim();
    if (apiKey) {
      const seeded = await seedApiKey(server.userStore, apiKey);
      logger.info('server.api_key_seeded', { userId: seeded.userId, created: seeded.created });
    }
    const listening = await server.listen(port, host);
    const shownHost = host.includes(':') ? `[${host}]` : host;
    logger.info('server.ready', { url: `http://${shownHost}:${listening.port}`, model: description });
    if (provider === 'offline') logger.warn('server.offline_model', { message: description });
    await waitForAbort(ctx.signal);
    logger.info('server.shutdown_requested', {});
    await listening.close();
  } finally {
    await pool.end();
  }
  return EXIT_OK;
}
