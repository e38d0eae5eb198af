import { type FakeLLMServer, type FakeLLMServerOptions, startFakeOpenAI } from '@internal/testing';
import { createStelloClient, type StelloClient } from '@stello-ai/client';
import { UserStore } from '@stello-ai/runtime';
import { createOpenAICompatibleAdapter } from '@stello-ai/session';
import { PgStores } from '@stello-ai/storage';
import type pg from 'pg';
import WebSocket from 'ws';
import {
  createStelloServer,
  type ListeningServer,
  type StelloServer,
  type StelloServerOptions,
} from '../create-stello-server';

// Test-only support of the end-to-end suites: a real server on port 0 over a real database and a
// fake OpenAI-compatible endpoint, plus a small promise-based WebSocket client.

const WS_WAIT_MS = 10_000;

/** A parsed server → client WebSocket message. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary fields of protocol messages
export type WsMessage = { type: string; [field: string]: any };

/** A WebSocket client that queues incoming JSON messages for `next()`. */
export class WsTestClient {
  readonly socket: WebSocket;
  readonly closed: Promise<{ code: number; reason: string }>;
  #queue: WsMessage[] = [];
  #waiters: Array<(message: WsMessage) => void> = [];

  private constructor(socket: WebSocket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as WsMessage;
      const waiter = this.#waiters.shift();
      if (waiter) waiter(message);
      else this.#queue.push(message);
    });
  }

  /** Opens `url` with the `X-API-Key` header; rejects when the upgrade is refused. */
  static connect(url: string, apiKey: string): Promise<WsTestClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers: { 'X-API-Key': apiKey } });
      const client = new WsTestClient(socket);
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`upgrade refused with ${response.statusCode}`)),
      );
    });
  }

  send(message: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(message));
  }

  /** The next message (queued or future); rejects after 10 s. */
  next(): Promise<WsMessage> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error('no websocket message within 10 s'));
      }, WS_WAIT_MS);
      const waiter = (message: WsMessage) => {
        clearTimeout(timer);
        resolve(message);
      };
      this.#waiters.push(waiter);
    });
  }

  /** The next message, asserting its type (the error frame is shown when it is not). */
  async expect(type: string): Promise<WsMessage> {
    const message = await this.next();
    if (message.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(message)}`);
    return message;
  }

  /** Sends `stream` and collects the deltas up to `stream.end`. */
  async stream(input: string): Promise<{ deltas: string[]; end: WsMessage }> {
    this.send({ type: 'session.stream', input });
    const deltas: string[] = [];
    for (;;) {
      const message = await this.next();
      if (message.type === 'stream.delta') deltas.push(message.chunk);
      else if (message.type === 'stream.end') return { deltas, end: message };
      else throw new Error(`unexpected message during a stream: ${JSON.stringify(message)}`);
    }
  }

  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close();
    await this.closed;
  }
}

/** A listening server with its fake model, a user and fetch helpers. */
export interface E2EHarness {
  server: StelloServer;
  listening: ListeningServer;
  fake: FakeLLMServer;
  baseUrl: string;
  apiKey: string;
  /** `@stello-ai/client` on the server with the user's key: how the API-level tests drive it. */
  client: StelloClient;
  wsUrl(spaceId: string): string;
  /** `fetch` on the server with the user's key; JSON body in and out. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response fields
  api(method: string, path: string, body?: unknown, apiKey?: string): Promise<{ status: number; body: any }>;
  /** Closes the server and the fake (not the pool). */
  close(): Promise<void>;
}

/** Starts a server on `pool` (already migrated by the test database), listening on port 0. */
export async function startHarness(
  pool: pg.Pool,
  options: { fake?: FakeLLMServerOptions; server?: Partial<StelloServerOptions> } = {},
): Promise<E2EHarness> {
  const fake = await startFakeOpenAI(options.fake);
  const model = createOpenAICompatibleAdapter({
    baseURL: fake.baseURL,
    apiKey: 'test-key-0123456789abcdefghijklmnop',
    model: 'gpt-4o-mini',
    maxRetries: 0,
  });
  const server = await createStelloServer({
    pool,
    agentPoolOptions: { model },
    // Revocations must show at once in tests; production keeps the 30 s cache.
    userStore: new UserStore(new PgStores(pool).users, { cacheTtlMs: 0 }),
    ...options.server,
  });
  const { apiKey } = await server.userStore.createUser('e2e');
  const listening = await server.listen(0);
  const baseUrl = `http://127.0.0.1:${listening.port}`;
  return {
    server,
    listening,
    fake,
    baseUrl,
    apiKey,
    client: createStelloClient({ baseUrl, apiKey }),
    wsUrl: (spaceId) => `ws://127.0.0.1:${listening.port}/spaces/${spaceId}/ws`,
    async api(method, path, body, key = apiKey) {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { 'X-API-Key': key, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? null : JSON.parse(text) };
    },
    async close() {
      await listening.close();
      await fake.close();
    },
  };
}
