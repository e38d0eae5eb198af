import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { createTestDatabase, type TestDatabase } from '@internal/testing';
import type { EngineHooks, Tool } from '@stello-ai/core';
import {
  AgentPool,
  type AgentPoolOptions,
  type ConnectionManager,
  type Logger,
  PgStores,
  SpaceManager,
  UserStore,
} from '@stello-ai/runtime';
import { createOfflineAdapter, type LLMAdapter } from '@stello-ai/session';
import type { Hono } from 'hono';
import { createApp } from '../create-app';
import type { TransportKeyLimits } from '../middleware/rate-limit';
import type { AuthEnv, TransportLimits } from '../types';
import { attachWebSocketGateway, type WebSocketGateway } from '../ws/attach-web-socket-gateway';

/** One structured log event captured by the test logger. */
export interface LogEntry {
  level: 'info' | 'warn' | 'error';
  event: string;
  fields: Record<string, unknown>;
}

/** A user with a working key. */
export interface TestUser {
  userId: string;
  apiKey: string;
}

/** A listening HTTP + WebSocket server on 127.0.0.1 (random port). */
export interface TestServer {
  /** `http://127.0.0.1:PORT`. */
  httpUrl: string;
  /** `ws://127.0.0.1:PORT`. */
  wsUrl: string;
  gateway: WebSocketGateway;
  close(): Promise<void>;
}

/** A real stack on a fresh database: runtime objects, the REST app and helpers. */
export interface TestStack {
  db: TestDatabase;
  spaceManager: SpaceManager;
  agentPool: AgentPool;
  userStore: UserStore;
  app: Hono<AuthEnv>;
  logs: LogEntry[];
  logger: Logger;
  createUser(name?: string): Promise<TestUser>;
  /** Starts an HTTP server with the app and the WebSocket gateway on port 0. */
  listen(options?: { heartbeatIntervalMs?: number; connections?: ConnectionManager }): Promise<TestServer>;
  close(): Promise<void>;
}

/** Options of `createTestStack`. */
export interface TestStackOptions {
  /** The chat model of every space (default: the offline model). */
  model?: LLMAdapter;
  /** Tools of every space's agent (default: none, the pool's default agent). */
  tools?: Tool[];
  /** Hooks of every space's agent. */
  hooks?: Partial<EngineHooks>;
  limits?: TransportLimits;
  /** Per-key limits asked before each turn. */
  keyLimits?: TransportKeyLimits;
}

/**
 * Builds a real stack for transport tests: a fresh PostgreSQL database, the runtime's
 * SpaceManager / AgentPool / UserStore, and the REST app, with a logger that records events.
 */
export async function createTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const db = await createTestDatabase();
  const logs: LogEntry[] = [];
  const record =
    (level: LogEntry['level']) =>
    (event: string, fields: Record<string, unknown> = {}): void => {
      logs.push({ level, event, fields });
    };
  const logger: Logger = { info: record('info'), warn: record('warn'), error: record('error') };
  const stores = new PgStores(db.pool);
  const spaceManager = new SpaceManager(stores.spaces);
  const model = options.model ?? createOfflineAdapter();
  const poolOptions: AgentPoolOptions = { model };
  const { tools, hooks } = options;
  if (tools || hooks) {
    poolOptions.buildConfig = (ctx) => ({
      storage: ctx.mainStorage,
      llm: model,
      ...(tools && { capabilities: { tools } }),
      ...(hooks && { orchestration: { hooks } }),
    });
  }
  const agentPool = new AgentPool(stores, poolOptions, spaceManager);
  const userStore = new UserStore(stores.users);
  const deps = {
    spaceManager,
    agentPool,
    userStore,
    logger,
    ...(options.limits && { limits: options.limits }),
    ...(options.keyLimits && { keyLimits: options.keyLimits }),
  };
  const app = createApp(deps);
  const servers: TestServer[] = [];
  let users = 0;

  return {
    db,
    spaceManager,
    agentPool,
    userStore,
    app,
    logs,
    logger,
    async createUser(name) {
      users += 1;
      const { user, apiKey } = await userStore.createUser(name ?? `user-${users}`);
      return { userId: user.id, apiKey };
    },
    async listen(listenOptions = {}) {
      const server = createAdaptorServer({ fetch: app.fetch }) as Server;
      const gateway = attachWebSocketGateway(server, { ...deps, ...listenOptions });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const testServer: TestServer = {
        httpUrl: `http://127.0.0.1:${port}`,
        wsUrl: `ws://127.0.0.1:${port}`,
        gateway,
        async close() {
          await gateway.close();
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
        },
      };
      servers.push(testServer);
      return testServer;
    },
    async close() {
      for (const server of servers) await server.close();
      // Let background work (turns of departed clients, consolidations) settle before the pool ends.
      agentPool.dispose();
      await db.drop();
    },
  };
}
