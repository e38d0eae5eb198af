import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI } from './start-fake-openai';
import type { FakeLLMServer } from './types';

function post(server: FakeLLMServer, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
    body: JSON.stringify(body),
    ...init,
  });
}

// biome-ignore lint/suspicious/noExplicitAny: the test reads arbitrary fields of provider JSON
async function readJson(response: Response): Promise<any> {
  return response.json();
}

/** Parses the `data:` payloads of an SSE body. */
function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
}

describe('startFakeOpenAI', () => {
  let server: FakeLLMServer;

  beforeAll(async () => {
    server = await startFakeOpenAI();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.requests.length = 0;
    server.setScript();
  });

  it('echoes the last user message in a chat.completion when no script is set', async () => {
    const response = await post(server, { model: 'm', messages: [{ role: 'user', content: 'ping' }] });

    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Echo: ping' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) },
    });
    expect(server.requests[0]).toMatchObject({
      path: '/v1/chat/completions',
      body: { model: 'm' },
      outcome: 'completed',
    });
  });

  it('streams chunks, tool-call fragments, a usage chunk and [DONE] when stream is true', async () => {
    server.setScript([
      {
        content: 'abcdefgh',
        toolCalls: [{ id: 'c1', name: 'f', input: { a: 1 } }],
        usage: { promptTokens: 3, completionTokens: 4 },
      },
    ]);

    const response = await post(server, {
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      stream_options: { include_usage: true },
    });

    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const data = sseData(await response.text());
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((line) => JSON.parse(line));
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(content).toBe('abcdefgh');
    const toolDeltas = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(toolDeltas[0]).toEqual({
      index: 0,
      id: 'c1',
      type: 'function',
      function: { name: 'f', arguments: '' },
    });
    expect(toolDeltas.map((delta) => delta.function.arguments).join('')).toBe('{"a":1}');
    expect(chunks.at(-2).choices[0].finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    });
  });

  it('takes replies from the queue, then falls back to the echo', async () => {
    server.setScript([{ content: 'first' }]);
    const ask = async () => {
      const response = await post(server, { model: 'm', messages: [{ role: 'user', content: 'q' }] });
      return (await readJson(response)).choices[0].message.content;
    };

    expect(await ask()).toBe('first');
    expect(await ask()).toBe('Echo: q');
  });

  it('answers a scripted error status and body', async () => {
    server.setScript(() => ({ status: 429 }));

    const response = await post(server, { model: 'm', messages: [{ role: 'user', content: 'q' }] });

    expect(response.status).toBe(429);
    expect(await response.json()).toEqual({
      error: { message: 'fake error', type: 'api_error', param: null, code: null },
    });
  });

  it('rejects tool calls without results and orphan tool results with a 400 like the real API', async () => {
    const orphanCall = await post(server, {
      model: 'm',
      messages: [
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c9', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'user', content: 'again' },
      ],
    });
    const orphanResult = await post(server, {
      model: 'm',
      messages: [
        { role: 'user', content: 'q' },
        { role: 'tool', tool_call_id: 'nope', content: 'r' },
      ],
    });
    const unknownPath = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', body: '{}' });

    expect(orphanCall.status).toBe(400);
    expect((await readJson(orphanCall)).error.message).toContain('c9');
    expect(orphanResult.status).toBe(400);
    expect(unknownPath.status).toBe(404);
  });

  it('answers concurrent requests independently', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const response = await post(server, {
          model: 'm',
          messages: [{ role: 'user', content: `n${i}` }],
          stream: true,
        });
        return sseData(await response.text())
          .slice(0, -1)
          .map((line) => JSON.parse(line).choices[0]?.delta.content ?? '')
          .join('');
      }),
    );

    expect(answers).toEqual(Array.from({ length: 20 }, (_, i) => `Echo: n${i}`));
    expect(server.requests).toHaveLength(20);
  });

  it('records the abort and keeps serving when a client closes a stream early', async () => {
    const slow = await startFakeOpenAI({ chunkCount: 10, chunkDelayMs: 30 });
    try {
      const controller = new AbortController();
      const response = await post(
        slow,
        { model: 'm', messages: [{ role: 'user', content: 'long answer' }], stream: true },
        { signal: controller.signal },
      );
      const reader = response.body!.getReader();
      await reader.read();
      controller.abort();

      expect(await slow.waitForOutcome(0)).toBe('aborted');
      const next = await post(slow, { model: 'm', messages: [{ role: 'user', content: 'still there?' }] });
      expect((await readJson(next)).choices[0].message.content).toBe('Echo: still there?');
      expect(await slow.waitForOutcome(1)).toBe('completed');
    } finally {
      await slow.close();
    }
  });
});
