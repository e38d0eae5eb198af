import {
  createTestDatabase,
  type FakeLLMServer,
  startFakeOpenAI,
  type TestDatabase,
} from '@internal/testing';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createPool } from '@stello-ai/db';
import { createOpenAICompatibleAdapter } from '@stello-ai/session';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createStelloServer, type StelloServerOptions } from './create-stello-server';
import { resolveTracer, STELLO_TRACER_NAME, telemetryEnabledByEnv } from './telemetry';

// Spans end to end: a real server on real PostgreSQL, the OpenAI adapter against a local fake,
// and an in-memory exporter that receives what an OTLP exporter would.

const PROVIDER_KEY = 'sk-provider-secret-0123456789';
const PROMPT = 'PROMPT-SECRET';

function tracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, provider };
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const ms = ([seconds, nanos]: [number, number]) => seconds * 1e3 + nanos / 1e6;

/** Every string a span carries: its name, its attributes' and its events' names and attributes. */
function textsOf(span: ReadableSpan): string[] {
  const values = (attributes: object | undefined) => Object.values(attributes ?? {}).map((v) => String(v));
  return [
    span.name,
    span.status.message ?? '',
    ...values(span.attributes),
    ...span.events.flatMap((event) => [event.name, ...values(event.attributes)]),
  ];
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('OpenTelemetry spans', () => {
  let db: TestDatabase;
  let llm: FakeLLMServer;
  const pools: pg.Pool[] = [];
  const closers: Array<() => Promise<void>> = [];
  const contextManager = new AsyncLocalStorageContextManager();

  beforeAll(async () => {
    // What an SDK (NodeSDK, NodeTracerProvider.register()) installs: async context across awaits.
    context.setGlobalContextManager(contextManager.enable());
    db = await createTestDatabase();
    llm = await startFakeOpenAI({ chunkCount: 4 });
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    delete process.env.STELLO_OTEL;
  });
  afterAll(async () => {
    for (const pool of pools) await pool.end();
    await llm?.close();
    await db?.drop();
    trace.disable();
    context.disable();
  });

  // Each server gets its own pool: tracing wraps the pool it is given.
  async function startServer(telemetry: StelloServerOptions['telemetry']) {
    const pool = createPool({ connectionString: db.url });
    pools.push(pool);
    const server = await createStelloServer({
      pool,
      controlChannel: false,
      metrics: { enabled: false },
      ...(telemetry !== undefined && { telemetry }),
      agentPoolOptions: {
        model: createOpenAICompatibleAdapter({
          baseURL: llm.baseURL,
          apiKey: PROVIDER_KEY,
          model: 'gpt-test',
          maxRetries: 0,
        }),
      },
    });
    const listening = await server.listen(0);
    closers.push(listening.close);
    const { apiKey } = await server.userStore.createUser(`otel-${pools.length}`);
    const base = `http://127.0.0.1:${listening.port}`;
    const headers = { 'x-api-key': apiKey, 'content-type': 'application/json' };
    const space = (await (
      await fetch(`${base}/spaces`, { method: 'POST', headers, body: '{"label":"otel"}' })
    ).json()) as { id: string };
    const [root] = (await (await fetch(`${base}/spaces/${space.id}/sessions`, { headers })).json()) as Array<{
      id: string;
    }>;
    const sessionUrl = `${base}/spaces/${space.id}/sessions/${root!.id}`;
    const restTurn = async (input: string, status = 200) => {
      const response = await fetch(`${sessionUrl}/turn`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ input }),
      });
      expect(response.status).toBe(status);
      return ((await response.json()) as { turnId: string }).turnId;
    };
    const sseTurn = async (input: string) => {
      const response = await fetch(`${sessionUrl}/stream`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ input }),
      });
      expect(await response.text()).toContain('stream.end');
      return response.headers.get('x-turn-id') as string;
    };
    // `session.stream` ends with `stream.end`; `session.message` with `turn.complete`.
    const wsStream = async (input: string, type: 'session.stream' | 'session.message' = 'session.stream') => {
      const last = type === 'session.stream' ? 'stream.end' : 'turn.complete';
      const socket = new WebSocket(`ws://127.0.0.1:${listening.port}/spaces/${space.id}/ws`, {
        headers: { 'X-API-Key': apiKey },
      });
      const frames: Array<{ type: string; turnId?: string }> = [];
      socket.on('message', (data) => frames.push(JSON.parse(String(data))));
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      socket.send(JSON.stringify({ type: 'session.enter', sessionId: root!.id }));
      await until(() => frames.some((f) => f.type === 'session.entered'), 'session.entered');
      socket.send(JSON.stringify({ type, input }));
      await until(() => frames.some((f) => f.type === last), last);
      socket.close();
      return frames.find((f) => f.type === last)?.turnId as string;
    };
    return { apiKey, base, headers, spaceId: space.id, sessionId: root!.id, restTurn, sseTurn, wsStream };
  }

  it('traces REST, SSE and WebSocket turns with their LLM call and SQL statements as children', async () => {
    const { exporter, provider } = tracing();
    const server = await startServer({ tracerProvider: provider });
    const turnIds = {
      rest: await server.restTurn(`${PROMPT} over rest`),
      sse: await server.sseTurn(`${PROMPT} over sse`),
      ws: await server.wsStream(`${PROMPT} over ws`),
    };
    const turnsDone = () => exporter.getFinishedSpans().filter((s) => s.name === 'stello.turn').length === 3;
    await until(turnsDone, 'three turn spans');
    const spans = [...exporter.getFinishedSpans()];

    for (const [transport, turnId] of Object.entries(turnIds)) {
      const turn = spans.find(
        (s) => s.name === 'stello.turn' && s.attributes['stello.transport'] === transport,
      );
      expect(turn, transport).toBeDefined();
      expect(turn!.attributes).toMatchObject({
        'stello.space.id': server.spaceId,
        'stello.session.id': server.sessionId,
        'stello.turn.id': turnId,
        'stello.turn.outcome': 'ok',
        'stello.turn.stream': transport !== 'rest',
      });
      const children = spans.filter((s) => parentOf(s) === idOf(turn!));
      const calls = children.filter((s) => s.name === 'chat gpt-test');
      expect(calls, `${transport} LLM calls`).toHaveLength(1);
      const call = calls[0]!;
      expect(call.attributes).toMatchObject({
        'gen_ai.provider.name': 'openai-compatible',
        'stello.llm.adapter': 'openai-compatible',
        'gen_ai.request.model': 'gpt-test',
        'stello.llm.stream': transport !== 'rest',
      });
      expect(call.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
      expect(call.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
      if (transport !== 'rest') expect(call.events.map((e) => e.name)).toContain('first_delta');
      // The warm turn's two statements (read + lease, then the commit) at least, all under the turn.
      const statements = children.filter((s) => s.attributes['db.system'] === 'postgresql');
      expect(statements.length, `${transport} statements`).toBeGreaterThanOrEqual(2);
      for (const statement of statements) {
        expect(statement.attributes['db.query.summary']).toBe(statement.name);
        expect(statement.attributes['db.operation.name']).toMatch(/^[A-Z_"]+$/);
      }
      expect(ms(call.startTime)).toBeGreaterThanOrEqual(ms(turn!.startTime));
      expect(ms(call.endTime)).toBeLessThanOrEqual(ms(turn!.endTime));
    }
    // A failed turn: its outcome is the error's code, on the turn and on its LLM call.
    llm.setScript([{ status: 500 }]);
    await server.restTurn(`${PROMPT} that fails`, 502);
    llm.setScript();
    await until(
      () =>
        exporter
          .getFinishedSpans()
          .slice(spans.length)
          .some((s) => s.name === 'stello.turn'),
      'the failed turn',
    );
    const failed = exporter.getFinishedSpans().slice(spans.length);
    const failedTurn = failed.find((s) => s.name === 'stello.turn');
    expect(failedTurn?.attributes['stello.turn.outcome']).toBe('LLM_ERROR');
    expect(failedTurn?.status.code).toBe(2);
    const failedCall = failed.find((s) => s.name === 'chat gpt-test');
    expect(failedCall?.attributes['error.type']).toBe('LLM_ERROR');
    expect(parentOf(failedCall!)).toBe(idOf(failedTurn!));
    spans.push(...failed);

    // A WebSocket `session.message`: a turn over ws that does not stream.
    const messageTurnId = await server.wsStream(`${PROMPT} as a ws message`, 'session.message');
    await until(
      () => exporter.getFinishedSpans().some((s) => s.attributes['stello.turn.id'] === messageTurnId),
      'the ws message turn',
    );
    const messaged = exporter.getFinishedSpans().slice(spans.length);
    const messageTurn = messaged.find((s) => s.name === 'stello.turn');
    expect(messageTurn?.attributes).toMatchObject({
      'stello.transport': 'ws',
      'stello.turn.stream': false,
      'stello.turn.outcome': 'ok',
    });
    const messageCall = messaged.find((s) => s.name === 'chat gpt-test');
    expect(parentOf(messageCall!)).toBe(idOf(messageTurn!));
    expect(messageCall?.attributes['stello.llm.stream']).toBe(false);
    spans.push(...messaged);

    // Statements sent outside a turn (rate sync, the space's creation) get no span of their own.
    expect(spans.every((s) => s.name === 'stello.turn' || parentOf(s) !== undefined)).toBe(true);

    // Neither a prompt, nor the provider's key, nor the user's API key is in any span.
    const texts = spans.flatMap(textsOf);
    expect(texts.length).toBeGreaterThan(0);
    for (const secret of [PROMPT, PROVIDER_KEY, server.apiKey]) {
      expect(texts.filter((text) => text.includes(secret))).toEqual([]);
    }
    await provider.shutdown();
  });

  it('traces memory work asked for over REST, with its LLM call and SQL statements under it', async () => {
    const { exporter, provider } = tracing();
    const server = await startServer({ tracerProvider: provider });
    const sessions = `${server.base}/spaces/${server.spaceId}/sessions`;
    const forked = await fetch(`${sessions}/${server.sessionId}/fork`, {
      method: 'POST',
      headers: server.headers,
      body: JSON.stringify({ label: 'child' }),
    });
    expect(forked.status).toBe(201);
    const child = ((await forked.json()) as { id: string }).id;
    const turn = await fetch(`${sessions}/${child}/turn`, {
      method: 'POST',
      headers: server.headers,
      body: JSON.stringify({ input: `${PROMPT} for the memory` }),
    });
    expect(turn.status).toBe(200);
    const consolidated = await fetch(`${sessions}/${child}/consolidate`, {
      method: 'POST',
      headers: server.headers,
    });
    expect(consolidated.status).toBe(200);

    const runs = () => exporter.getFinishedSpans().filter((s) => s.name === 'stello.memory.consolidate');
    await until(() => runs().length === 1, 'the consolidation span');
    const run = runs()[0]!;
    expect(run.attributes).toMatchObject({
      'stello.space.id': server.spaceId,
      'stello.session.id': child,
      'stello.memory.explicit': true,
    });
    const children = exporter.getFinishedSpans().filter((s) => parentOf(s) === idOf(run));
    expect(children.filter((s) => s.name === 'chat gpt-test')).toHaveLength(1);
    // Its reads and its write of the memory.
    expect(children.filter((s) => s.attributes['db.system'] === 'postgresql').length).toBeGreaterThanOrEqual(
      2,
    );
    expect(
      exporter
        .getFinishedSpans()
        .flatMap(textsOf)
        .filter((text) => text.includes(PROMPT)),
    ).toEqual([]);
    await provider.shutdown();
  });

  it('records no span when telemetry is off, and uses the global provider under STELLO_OTEL=on', async () => {
    const { exporter, provider } = tracing();
    // Registered globally: anything the server traced with the global API would land here.
    trace.setGlobalTracerProvider(provider);
    const off = await startServer(undefined);
    await off.restTurn('no spans please');
    await off.wsStream('still no spans');
    const explicitlyOff = await startServer(false);
    await explicitlyOff.restTurn('none either');
    expect(exporter.getFinishedSpans()).toEqual([]);

    process.env.STELLO_OTEL = 'on';
    const on = await startServer(undefined);
    const turnId = await on.restTurn('traced through the global provider');
    await until(() => exporter.getFinishedSpans().some((s) => s.name === 'stello.turn'), 'a turn span');
    const turn = exporter.getFinishedSpans().find((s) => s.name === 'stello.turn');
    expect(turn?.attributes['stello.turn.id']).toBe(turnId);
    expect(turn?.attributes['stello.transport']).toBe('rest');
    await provider.shutdown();
  });
});

describe('resolveTracer', () => {
  it('is off unless telemetry is given or STELLO_OTEL asks for it, and false wins over the env', () => {
    const { provider } = tracing();
    expect(telemetryEnabledByEnv({})).toBe(false);
    expect(telemetryEnabledByEnv({ STELLO_OTEL: ' ON ' })).toBe(true);
    expect(telemetryEnabledByEnv({ STELLO_OTEL: 'off' })).toBe(false);
    expect(resolveTracer(undefined, {})).toBeUndefined();
    expect(resolveTracer(false, { STELLO_OTEL: 'on' })).toBeUndefined();
    expect(resolveTracer(undefined, { STELLO_OTEL: 'yes' })).toBeDefined();
    const tracer = resolveTracer({ tracerProvider: provider }, {});
    expect(tracer).toBe(provider.getTracer(STELLO_TRACER_NAME));
  });
});
