import type { PoolOptions } from '@stello-ai/db';
import type { AgentPoolOptions } from '@stello-ai/runtime';
import type { StelloServerLimits } from '../create-stello-server';
import { CliUsageError } from './_context';

/** Environment variables of the server's limits, and the option each one sets. */
const LIMIT_VARIABLES = {
  STELLO_BODY_BYTES: 'bodyBytes',
  STELLO_WS_FRAME_BYTES: 'wsFrameBytes',
  STELLO_WS_SEND_BUFFER_BYTES: 'wsSendBufferBytes',
  STELLO_WS_MAX_PROTOCOL_ERRORS: 'wsMaxProtocolErrors',
  STELLO_WS_CONNECTIONS_PER_USER: 'wsConnectionsPerUser',
  STELLO_LIST_BYTES: 'listBytes',
  STELLO_HEADERS_TIMEOUT_MS: 'headersTimeoutMs',
  STELLO_REQUEST_TIMEOUT_MS: 'requestTimeoutMs',
  STELLO_MAX_CONNECTIONS: 'maxConnections',
  STELLO_SPACES_PER_USER: 'spacesPerUser',
  STELLO_SESSIONS_PER_USER: 'sessionsPerUser',
  STELLO_STORED_BYTES_PER_USER: 'storedBytesPerUser',
  STELLO_RUNNING_TURNS_PER_USER: 'runningTurnsPerUser',
  STELLO_TURNS_PER_MINUTE: 'turnsPerMinute',
  STELLO_STREAMS_PER_KEY: 'streamsPerKey',
} as const satisfies Record<string, keyof StelloServerLimits>;

const POOL_VARIABLES = {
  STELLO_CONNECT_TIMEOUT_MS: 'connectionTimeoutMillis',
  STELLO_STATEMENT_TIMEOUT_MS: 'statementTimeoutMillis',
} as const satisfies Record<string, keyof PoolOptions>;

function integer(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  if (!/^\d{1,12}$/.test(raw) || Number(raw) < min) {
    throw new CliUsageError(`invalid ${name} "${raw}": expected an integer of at least ${min}`, 'serve');
  }
  return Number(raw);
}

/** The limits set in the environment (unset ones keep their defaults). */
export function limitsFromEnv(env: NodeJS.ProcessEnv): StelloServerLimits {
  const limits: StelloServerLimits = {};
  for (const [name, option] of Object.entries(LIMIT_VARIABLES)) {
    const value = integer(env, name, 1);
    if (value !== undefined) limits[option] = value;
  }
  return limits;
}

/** The pool's timeouts set in the environment (0 turns one off). */
export function poolTimeoutsFromEnv(
  env: NodeJS.ProcessEnv,
): Pick<PoolOptions, 'connectionTimeoutMillis' | 'statementTimeoutMillis'> {
  const options: Pick<PoolOptions, 'connectionTimeoutMillis' | 'statementTimeoutMillis'> = {};
  for (const [name, option] of Object.entries(POOL_VARIABLES)) {
    const value = integer(env, name, 0);
    if (value !== undefined) options[option] = value;
  }
  return options;
}

const AGENT_POOL_VARIABLES = {
  STELLO_MIN_CONSOLIDATE_EVERY_N_TURNS: 'minConsolidateEveryNTurns',
  STELLO_MAX_CACHED_AGENTS: 'maxCachedAgents',
  STELLO_MAX_CACHED_BYTES: 'maxCachedBytes',
} as const satisfies Record<string, keyof AgentPoolOptions>;

/** The agent pool's bounds set in the environment. */
export function agentPoolLimitsFromEnv(
  env: NodeJS.ProcessEnv,
): Pick<AgentPoolOptions, 'minConsolidateEveryNTurns' | 'maxCachedAgents' | 'maxCachedBytes'> {
  const options: Pick<AgentPoolOptions, 'minConsolidateEveryNTurns' | 'maxCachedAgents' | 'maxCachedBytes'> =
    {};
  for (const [name, option] of Object.entries(AGENT_POOL_VARIABLES)) {
    const value = integer(env, name, 1);
    if (value !== undefined) options[option] = value;
  }
  return options;
}
