import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from './start-fake-anthropic';
import type { FakeLLMServer } from './types';

const HEADERS = { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' };

function post(
  server: FakeLLMServer,
  body: unknown,
  headers: Record<string, string> = HEADERS,
): Promise<Response> {
  return fetch(`${server.baseURL}/v1/messages`, { method: 'POST', headers, body: JSON.stringify(body) });
}

/** Parses an SSE body into `{ event, data }` pairs. */
// biome-ignore lint/suspicious/noExplicitAny: the test reads arbitrary fields of provider events
function sseEvents(text: string): { event: string; data: any }[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const [eventLine, dataLine] = block.split('\n');
      return {
        event: eventLine?.replace('event: ', '') ?? '',
        data: JSON.parse(dataLine?.replace('data: ', '') ?? ''),
      };
    });
}

describe('startFakeAnthropic', () => {
  let server: FakeLLMServer;

  beforeAll(async () => {
    server = await startFakeAnthropic();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.requests.length = 0;
    server.setScript();
  });

  it('echoes the last user text in a message when no script is set', async () => {
    const response = await post(server, {
      model: 'claude',
      max_tokens: 10,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude',
      content: [{ type: 'text', text: 'Echo: hello' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: expect.any(Number), output_tokens: expect.any(Number) },
    });
  });

  it('streams the message events with event lines, text and input_json deltas', async () => {
    server.setScript([
      {
        content: 'hi there',
        toolCalls: [{ id: 'toolu_1', name: 'f', input: { q: 'x' } }],
        usage: { promptTokens: 5, completionTokens: 7 },
      },
    ]);

    const response = await post(server, {
      model: 'c',
      max_tokens: 10,
      stream: true,
      messages: [{ role: 'user', content: 'q' }],
    });

    const events = sseEvents(await response.text());
    expect(events.every((event) => event.event === event.data.type)).toBe(true);
    expect(events[0]).toMatchObject({
      event: 'message_start',
      data: { message: { usage: { input_tokens: 5 } } },
    });
    const text = events
      .filter((event) => event.data.delta?.type === 'text_delta')
      .map((event) => event.data.delta.text)
      .join('');
    expect(text).toBe('hi there');
    expect(events.find((event) => event.data.content_block?.type === 'tool_use')?.data).toMatchObject({
      index: 1,
      content_block: { id: 'toolu_1', name: 'f' },
    });
    const json = events
      .filter((event) => event.data.delta?.type === 'input_json_delta')
      .map((event) => event.data.delta.partial_json)
      .join('');
    expect(json).toBe('{"q":"x"}');
    expect(events.at(-2)).toMatchObject({
      event: 'message_delta',
      data: { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 7 } },
    });
    expect(events.at(-1)?.event).toBe('message_stop');
  });

  it('rejects missing credentials or max_tokens, unanswered tool_use and bad roles like the real API', async () => {
    const messages = [{ role: 'user', content: 'q' }];
    const noKey = await post(
      server,
      { model: 'c', max_tokens: 5, messages },
      { 'content-type': 'application/json' },
    );
    const noMax = await post(server, { model: 'c', messages });
    const unanswered = await post(server, {
      model: 'c',
      max_tokens: 5,
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_x', name: 'f', input: {} }] },
        { role: 'user', content: 'next' },
      ],
    });
    const systemRole = await post(server, {
      model: 'c',
      max_tokens: 5,
      messages: [{ role: 'system', content: 's' }],
    });
    const assistantFirst = await post(server, {
      model: 'c',
      max_tokens: 5,
      messages: [
        { role: 'assistant', content: 'a' },
        { role: 'user', content: 'u' },
      ],
    });

    expect(noKey.status).toBe(401);
    expect(noMax.status).toBe(400);
    expect(unanswered.status).toBe(400);
    expect(await unanswered.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    });
    expect(systemRole.status).toBe(400);
    expect(assistantFirst.status).toBe(400);
  });

  it('accepts tool results answering the previous tool_use blocks', async () => {
    const response = await post(server, {
      model: 'c',
      max_tokens: 5,
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_x', name: 'f', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_x', content: 'ok' }] },
      ],
    });

    expect(response.status).toBe(200);
  });
});
