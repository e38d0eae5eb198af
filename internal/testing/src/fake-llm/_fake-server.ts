import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TokenCounter } from '@stello-ai/session';
import type {
  FakeLLMServer,
  FakeLLMServerOptions,
  FakeReply,
  FakeRequest,
  FakeRequestOutcome,
  FakeScript,
} from './types';

const DEFAULT_CHUNK_COUNT = 4;

/** A scripted reply with every default filled in, ready to be written in a provider's format. */
export interface ResolvedReply {
  content: string | null;
  toolCalls: { id: string; name: string; argumentsText: string; input: unknown }[];
  usage: { promptTokens: number; completionTokens: number };
}

/** One server-sent event; `delayed` events wait `chunkDelayMs` first (the generated tokens). */
export interface SseEvent {
  event?: string;
  data: unknown;
  delayed?: boolean;
}

/** What differs between providers: the route, the validation, the error shape and the wire format. */
export interface ProviderProtocol {
  path: string;
  baseURLSuffix: string;
  toolIdPrefix: string;
  /** The text of the last user message, for the default echo reply. */
  lastUserText(body: FakeRequest['body']): string;
  /** A 4xx verdict for a request the real API would refuse, or null. */
  validate(request: FakeRequest): { status: number; type: string; message: string } | null;
  errorBody(status: number, type: string, message: string): unknown;
  /** The texts of a request's prompt, one per message (system text, message content, tool calls). */
  promptTexts(body: FakeRequest['body']): string[];
  /** The tokenizer the provider counts `body`'s prompt with when the options give none. */
  defaultCounter(body: FakeRequest['body']): TokenCounter;
  /** The provider's own 400 body for a prompt of `tokens` over a window of `max`. */
  overflowBody(tokens: number, max: number): unknown;
  isStream(body: FakeRequest['body']): boolean;
  json(reply: ResolvedReply, body: FakeRequest['body']): unknown;
  events(reply: ResolvedReply, body: FakeRequest['body'], textChunks: string[]): SseEvent[];
}

// Role markers and separators the real APIs add to every message.
const MESSAGE_OVERHEAD_TOKENS = 4;

/** Counts a prompt as the provider would: the tokens of every message's text plus its overhead. */
async function countPromptTokens(
  protocol: ProviderProtocol,
  body: FakeRequest['body'],
  tokenCounter: TokenCounter | undefined,
): Promise<number> {
  const counter = tokenCounter ?? protocol.defaultCounter(body);
  await counter.load();
  let tokens = 0;
  for (const text of protocol.promptTexts(body)) tokens += counter.count(text) + MESSAGE_OVERHEAD_TOKENS;
  return tokens;
}

/** Starts a fake provider on 127.0.0.1 (random port) that speaks `protocol`. */
export async function startFakeServer(
  protocol: ProviderProtocol,
  options: FakeLLMServerOptions = {},
): Promise<FakeLLMServer> {
  const requests: FakeRequest[] = [];
  const settled = new EventEmitter();
  let script: FakeScript | undefined = cloneScript(options.script);
  let toolIdCounter = 0;

  async function nextReply(request: FakeRequest): Promise<FakeReply> {
    if (typeof script === 'function') return script(request);
    return script?.shift() ?? {};
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'POST' || path !== protocol.path) {
      sendJson(res, 404, protocol.errorBody(404, 'not_found_error', `no route ${req.method} ${path}`));
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      sendJson(res, 400, protocol.errorBody(400, 'invalid_request_error', 'request body is not valid JSON'));
      return;
    }
    const request: FakeRequest = { method: req.method, path, headers: req.headers, body, outcome: 'pending' };
    const index = requests.push(request) - 1;
    const settle = (outcome: Exclude<FakeRequestOutcome, 'pending'>) => {
      if (request.outcome !== 'pending') return;
      request.outcome = outcome;
      settled.emit(String(index), outcome);
    };
    const closed = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) closed.abort();
      settle(res.writableFinished ? 'completed' : 'aborted');
    });
    // Writes after the client went away fail; that is expected here, not a crash.
    res.on('error', () => {});

    if (options.validate !== false) {
      const invalid = protocol.validate(request);
      if (invalid) {
        sendJson(res, invalid.status, protocol.errorBody(invalid.status, invalid.type, invalid.message));
        return;
      }
    }
    if (options.maxPromptTokens !== undefined) {
      const tokens = await countPromptTokens(protocol, request.body, options.tokenCounter);
      if (tokens > options.maxPromptTokens) {
        sendJson(res, 400, protocol.overflowBody(tokens, options.maxPromptTokens));
        return;
      }
    }
    const scripted = await nextReply(request);
    await sleep(options.firstTokenLatencyMs ?? 0, closed.signal);
    if (closed.signal.aborted) return;

    if (scripted.status !== undefined && scripted.status >= 400) {
      sendJson(
        res,
        scripted.status,
        scripted.errorBody ?? protocol.errorBody(scripted.status, 'api_error', 'fake error'),
      );
      return;
    }
    const reply = resolveReply(scripted, request, () => `${protocol.toolIdPrefix}${++toolIdCounter}`);
    const textChunks = splitIntoChunks(reply.content ?? '', options.chunkCount ?? DEFAULT_CHUNK_COUNT);
    const delayMs = options.chunkDelayMs ?? 0;

    if (!protocol.isStream(body)) {
      // A non-streamed answer takes as long as the streamed one would.
      await sleep(delayMs * Math.max(0, textChunks.length + reply.toolCalls.length * 2 - 1), closed.signal);
      if (!closed.signal.aborted) sendJson(res, 200, protocol.json(reply, body));
      return;
    }

    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    let first = true;
    for (const event of protocol.events(reply, body, textChunks)) {
      if (event.delayed) {
        if (!first) await sleep(delayMs, closed.signal);
        first = false;
      }
      if (closed.signal.aborted) return;
      const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
      res.write(`${event.event ? `event: ${event.event}\n` : ''}data: ${data}\n\n`);
    }
    res.end();
  }

  function requestText(request: FakeRequest): string {
    return protocol.lastUserText(request.body);
  }

  function resolveReply(scripted: FakeReply, request: FakeRequest, nextId: () => string): ResolvedReply {
    const toolCalls = (scripted.toolCalls ?? []).map((call) => {
      const input = call.input ?? {};
      const argumentsText = typeof input === 'string' ? input : JSON.stringify(input);
      return { id: call.id ?? nextId(), name: call.name, argumentsText, input };
    });
    const content =
      scripted.content !== undefined
        ? scripted.content
        : toolCalls.length > 0
          ? null
          : `Echo: ${requestText(request)}`;
    const completionText = (content ?? '') + toolCalls.map((call) => call.name + call.argumentsText).join('');
    const usage = scripted.usage ?? {
      promptTokens: Math.ceil(JSON.stringify(request.body).length / 4),
      completionTokens: Math.max(1, Math.ceil(completionText.length / 4)),
    };
    return { content, toolCalls, usage };
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      sendJson(res, 500, protocol.errorBody(500, 'api_error', `fake server failure: ${message}`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    baseURL: `${url}${protocol.baseURLSuffix}`,
    requests,
    setScript(next) {
      script = cloneScript(next);
    },
    waitForOutcome(index) {
      const outcome = requests[index]?.outcome;
      if (outcome !== undefined && outcome !== 'pending') return Promise.resolve(outcome);
      return new Promise((resolve) => settled.once(String(index), resolve));
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

// A copied queue, so shifting replies never mutates the caller's array.
function cloneScript(script: FakeScript | undefined): FakeScript | undefined {
  return Array.isArray(script) ? [...script] : script;
}

/** Splits text into at most `count` non-empty pieces of near-equal length (code-point safe). */
export function splitIntoChunks(text: string, count: number): string[] {
  const chars = Array.from(text);
  if (chars.length === 0) return [];
  const pieces = Math.max(1, Math.min(Math.floor(count), chars.length));
  const size = Math.ceil(chars.length / pieces);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

/** Splits tool-call arguments text into two fragments, as providers stream it in pieces. */
export function splitArguments(text: string): string[] {
  if (text.length < 2) return text === '' ? [] : [text];
  const half = Math.ceil(text.length / 2);
  return [text.slice(0, half), text.slice(half)];
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
