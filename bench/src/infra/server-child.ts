/**
 * Child process of the bench: the server under test on 127.0.0.1, driven over IPC.
 *
 * - `real`: `createStelloServer` on PostgreSQL (`BENCH_SERVER.databaseUrl`), its pool counted
 *   statement by statement.
 * - `ceiling`: the same transport (`createApp` + `attachWebSocketGateway` on @hono/node-server)
 *   over in-memory runtime stand-ins: the cost of everything but the database.
 * - `bare`: the bare reference (`startBareServer`): the same API shape in a page of code, no
 *   project package, records in plain Maps.
 *
 * Both pick each space's model by its config: `benchModel: 'realistic'` gets the realistic fake.
 */
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import type { Space } from '@stello-ai/runtime';
import { silentLogger } from '@stello-ai/runtime';
import {
  createOpenAICompatibleAdapter,
  createPool,
  createStelloServer,
  PgMainStorage,
} from '@stello-ai/server';
import type { LLMAdapter } from '@stello-ai/session';
import { attachWebSocketGateway, createApp, type TransportDeps } from '@stello-ai/transport';
import { startBareServer } from './bare-server';
import { createCeilingDeps, seedTurn } from './ceiling-deps';
import { countStatements } from './count-statements';
import { failStartup, type RpcHandlers, serveRpc } from './rpc';

/** How the bench configures a server child (JSON in the `BENCH_SERVER` environment variable). */
export interface ServerChildConfig {
  mode: 'real' | 'ceiling' | 'bare';
  /** Required in `real` mode. */
  databaseUrl?: string;
  zeroBaseURL: string;
  realisticBaseURL: string;
}

/** What a server child announces when ready. */
export interface ServerChildInfo {
  port: number;
}

/** What `stats` answers. */
export interface ServerStats {
  /** `process.cpuUsage()`, in microseconds. */
  cpu: { user: number; system: number };
  memory: NodeJS.MemoryUsage;
  /** SQL round trips since start (always 0 for the ceiling). */
  statements: number;
  /** Cached agents. */
  agents: number;
}

/** Parameters of `seed`. */
export interface SeedParams {
  spaceId: string;
  sessionId: string;
  turns: number;
}

// The space's config key that selects the realistic model.
const MODEL_CONFIG_KEY = 'benchModel';
// Seeding runs this many sessions at once.
const SEED_PARALLELISM = 8;

interface Models {
  zero: LLMAdapter;
  realistic: LLMAdapter;
  /** The model of a space: the realistic one when its config asks for it. */
  pick(space: Space): LLMAdapter;
}

function createModels(config: ServerChildConfig): Models {
  // No retries: a failed LLM call must show up as an error, not as a slow turn.
  const adapter = (baseURL: string) =>
    createOpenAICompatibleAdapter({ baseURL, apiKey: 'bench', model: 'fake', maxRetries: 0 });
  const zero = adapter(config.zeroBaseURL);
  const realistic = adapter(config.realisticBaseURL);
  return {
    zero,
    realistic,
    pick: (space) => (space.config[MODEL_CONFIG_KEY] === 'realistic' ? realistic : zero),
  };
}

interface Stack {
  port: number;
  statements: () => number;
  /** Returns the statements traced so far, then starts (`true`) or stops tracing. */
  trace: (on: boolean) => string[];
  agents: () => number;
  createUser(name: string): Promise<string>;
  seedOne(params: SeedParams): Promise<void>;
  /** After seeding: refreshes the planner's statistics, as autovacuum would soon after a bulk load. */
  analyze(): Promise<void>;
  evict(spaceIds: string[]): void;
  close(): Promise<void>;
}

// The idle-sockets scenario opens thousands of sockets for one user: above the default per-user cap.
const BENCH_LIMITS = { wsConnectionsPerUser: 1_000_000, maxConnections: 1_000_000 };

async function startReal(config: ServerChildConfig): Promise<Stack> {
  if (!config.databaseUrl) throw new Error('real mode needs databaseUrl');
  const pool = createPool({ connectionString: config.databaseUrl });
  const counter = countStatements(pool);
  const models = createModels(config);
  const server = await createStelloServer({
    pool,
    agentPoolOptions: {
      model: models.zero,
      // Only the realistic spaces differ; the others get the pool's default agent unchanged.
      buildConfig: (ctx) => (models.pick(ctx.space) === models.zero ? {} : { llm: models.realistic }),
    },
    limits: BENCH_LIMITS,
  });
  const listening = await server.listen(0, '127.0.0.1');
  return {
    port: listening.port,
    statements: () => counter.count,
    trace: (on) => {
      const traced = [...counter.traced];
      counter.trace(on);
      return traced;
    },
    agents: () => server.agentPool.size,
    createUser: async (name) => (await server.userStore.createUser(name)).apiKey,
    async seedOne({ spaceId, sessionId, turns }) {
      const storage = new PgMainStorage(pool, spaceId);
      for (let turn = 0; turn < turns; turn += 1) {
        await storage.commitTurn(sessionId, { records: seedTurn(turn), countTurn: true });
      }
    },
    async analyze() {
      await pool.query('ANALYZE');
    },
    evict: (spaceIds) => {
      for (const spaceId of spaceIds) server.agentPool.evict(spaceId);
    },
    async close() {
      await listening.close();
      await pool.end();
    },
  };
}

async function startCeiling(config: ServerChildConfig): Promise<Stack> {
  const ceiling = createCeilingDeps(createModels(config).pick);
  const deps: TransportDeps = {
    spaceManager: ceiling.spaceManager,
    agentPool: ceiling.agentPool,
    userStore: ceiling.userStore,
    logger: silentLogger,
    readiness: async () => true,
    limits: BENCH_LIMITS,
  };
  const app = createApp(deps);
  const httpServer = createAdaptorServer({ fetch: app.fetch }) as Server;
  const gateway = attachWebSocketGateway(httpServer, deps);
  const port = await new Promise<number>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(0, '127.0.0.1', () => {
      const address = httpServer.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
  return {
    port,
    statements: () => 0,
    trace: () => [],
    agents: () => ceiling.agentCount,
    createUser: (name) => ceiling.createUser(name),
    seedOne: ({ spaceId, sessionId, turns }) => ceiling.seed(spaceId, sessionId, turns),
    analyze: async () => {},
    evict: (spaceIds) => ceiling.evict(spaceIds),
    async close() {
      await gateway.close();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

async function startBare(config: ServerChildConfig): Promise<Stack> {
  const bare = await startBareServer(config);
  return {
    port: bare.port,
    statements: () => 0,
    trace: () => [],
    agents: () => 0,
    createUser: async (name) => bare.createUser(name),
    seedOne: async ({ spaceId, sessionId, turns }) => bare.seed(spaceId, sessionId, turns),
    analyze: async () => {},
    // No agent or space cache to evict: every space is always warm.
    evict: () => {},
    close: () => bare.close(),
  };
}

async function seedAll(stack: Stack, sessions: SeedParams[]): Promise<void> {
  const queue = [...sessions];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await stack.seedOne(next);
  };
  await Promise.all(Array.from({ length: SEED_PARALLELISM }, worker));
  await stack.analyze();
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the server child needs --expose-gc');
  // Twice: the first pass may only queue finalizers and weak callbacks.
  gc();
  gc();
}

async function main(): Promise<void> {
  const raw = process.env.BENCH_SERVER;
  if (!raw) throw new Error('BENCH_SERVER is not set');
  const config = JSON.parse(raw) as ServerChildConfig;
  const start = { real: startReal, ceiling: startCeiling, bare: startBare }[config.mode];
  const stack = await start(config);
  const stats = (): ServerStats => ({
    cpu: process.cpuUsage(),
    memory: process.memoryUsage(),
    statements: stack.statements(),
    agents: stack.agents(),
  });
  const handlers: RpcHandlers = {
    stats,
    gc: () => {
      collectGarbage();
      return stats();
    },
    createUser: (params: { name: string }) => stack.createUser(params.name),
    seed: (params: { sessions: SeedParams[] }) => seedAll(stack, params.sessions),
    evict: (params: { spaceIds: string[] }) => stack.evict(params.spaceIds),
    trace: (params: { on: boolean }) => stack.trace(params.on),
    close: () => stack.close(),
  };
  const info: ServerChildInfo = { port: stack.port };
  serveRpc(handlers, info);
}

main().catch(failStartup);
