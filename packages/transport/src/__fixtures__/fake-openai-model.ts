import type { FakeLLMServer, FakeScript } from '@internal/testing';
import { createOpenAICompatibleAdapter, type LLMAdapter } from '@stello-ai/session';

/** The chat model of a test stack on a fake OpenAI server; no retries, so a scripted failure surfaces at once. */
export function fakeOpenAIModel(llm: FakeLLMServer): LLMAdapter {
  return createOpenAICompatibleAdapter({
    baseURL: llm.baseURL,
    model: 'gpt-test',
    apiKey: 'test',
    maxRetries: 0,
  });
}

/**
 * A fake-provider script that answers 500 with `message` (e.g. a secret that must not leak) when
 * the last message of the request holds `FAIL`, and the default reply otherwise.
 */
export function failWhenAskedTo(message: string): FakeScript {
  return (request) =>
    String(request.body.messages.at(-1)?.content).includes('FAIL')
      ? { status: 500, errorBody: { error: { message } } }
      : {};
}
