import { type FakeLLMServer, startFakeAnthropic, startFakeOpenAI } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelFromEnv } from './create-model-from-env';

describe('createModelFromEnv', () => {
  let openai: FakeLLMServer;
  let anthropic: FakeLLMServer;

  beforeAll(async () => {
    openai = await startFakeOpenAI();
    anthropic = await startFakeAnthropic();
  });
  afterAll(async () => {
    await openai?.close();
    await anthropic?.close();
  });

  it('uses the offline model when no LLM setting is present', async () => {
    const { model, provider, description } = createModelFromEnv({});
    expect(provider).toBe('offline');
    expect(description).toContain('offline');
    const result = await model.complete([{ role: 'user', content: 'hello' }]);
    expect(typeof result.content).toBe('string');
  });

  it('treats empty values as unset', () => {
    expect(
      createModelFromEnv({ OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '  ', OPENAI_BASE_URL: '' }).provider,
    ).toBe('offline');
  });

  it('uses an OpenAI-compatible endpoint when OPENAI_BASE_URL is set', async () => {
    const { model, provider, description } = createModelFromEnv({
      OPENAI_BASE_URL: openai.baseURL,
      OPENAI_API_KEY: 'sk-secret-value',
    });
    expect(provider).toBe('openai-compatible');
    expect(description).toContain('gpt-4o-mini');
    expect(description).not.toContain('sk-secret-value');
    const result = await model.complete([{ role: 'user', content: 'ping' }]);
    expect(result.content).toBe('Echo: ping');
    const request = openai.requests.at(-1);
    expect(request?.body.model).toBe('gpt-4o-mini');
    expect(request?.headers.authorization).toBe('Bearer sk-secret-value');
  });

  it('uses STELLO_MODEL as the model name', async () => {
    const { model } = createModelFromEnv({ OPENAI_BASE_URL: openai.baseURL, STELLO_MODEL: 'llama3.1' });
    await model.complete([{ role: 'user', content: 'ping' }]);
    expect(openai.requests.at(-1)?.body.model).toBe('llama3.1');
  });

  it('prefers Anthropic when ANTHROPIC_API_KEY is set', async () => {
    const { model, provider, description } = createModelFromEnv({
      ANTHROPIC_API_KEY: 'sk-ant-secret',
      ANTHROPIC_BASE_URL: anthropic.baseURL,
      OPENAI_BASE_URL: openai.baseURL,
    });
    expect(provider).toBe('anthropic');
    expect(description).toContain('claude-sonnet-5');
    expect(description).not.toContain('sk-ant-secret');
    const result = await model.complete([{ role: 'user', content: 'ping' }]);
    expect(result.content).toBe('Echo: ping');
    expect(anthropic.requests.at(-1)?.body.model).toBe('claude-sonnet-5');
  });
});
