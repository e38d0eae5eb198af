import {
  createTestDatabase,
  type FakeLLMServer,
  type FakeLLMServerOptions,
  startFakeOpenAI,
  type TestDatabase,
} from '@internal/testing';
import { createOpenAICompatibleAdapter, createStelloServer, type StelloServer } from '@stello-ai/server';
import { createStelloClient, type StelloClient, type StelloClientOptions } from '../index';
import { type CuttableProxy, startCuttableProxy } from './cuttable-proxy';

/** A real server on its own test database and fake model, reached through a cuttable proxy. */
export interface ClientStack {
  db: TestDatabase;
  fake: FakeLLMServer;
  server: StelloServer;
  proxy: CuttableProxy;
  /** The server's own URL (no proxy). */
  directUrl: string;
  apiKey: string;
  /** A client through the proxy with the user's key. */
  client: StelloClient;
  /** Another client (other key, fetch, WebSocket …) through the proxy. */
  makeClient(options?: Partial<StelloClientOptions>): StelloClient;
  close(): Promise<void>;
}

/**
 * Starts the stack. The fake model echoes the user's message in `chunkCount` pieces, `chunkDelayMs`
 * apart, so a test can act in the middle of a stream.
 */
export async function startClientStack(fakeOptions: FakeLLMServerOptions = {}): Promise<ClientStack> {
  const db = await createTestDatabase();
  const fake = await startFakeOpenAI(fakeOptions);
  const server = await createStelloServer({
    pool: db.pool,
    agentPoolOptions: {
      model: createOpenAICompatibleAdapter({
        baseURL: fake.baseURL,
        apiKey: 'k',
        model: 'gpt-test',
        maxRetries: 0,
      }),
    },
  });
  const listening = await server.listen(0);
  const { apiKey } = await server.userStore.createUser('client-tests');
  const proxy = await startCuttableProxy(listening.port);
  const makeClient = (options: Partial<StelloClientOptions> = {}) =>
    createStelloClient({ baseUrl: proxy.url, apiKey, ...options });
  return {
    db,
    fake,
    server,
    proxy,
    directUrl: `http://127.0.0.1:${listening.port}`,
    apiKey,
    client: makeClient(),
    makeClient,
    async close() {
      await proxy.close();
      await listening.close();
      await fake.close();
      await db.drop();
    },
  };
}
