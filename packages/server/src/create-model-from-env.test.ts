import { readFile } from 'node:fs/promises';
import { type FakeLLMServer, startFakeAnthropic, startFakeOpenAI } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelFromEnv, DEFAULT_ANTHROPIC_MODEL, redactUrl } from './create-model-from-env';

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

  it('defaults the context window per model and lets STELLO_MAX_CONTEXT_TOKENS override it', () => {
    expect(createModelFromEnv({ OPENAI_BASE_URL: openai.baseURL }).model.maxContextTokens).toBe(128_000);
    expect(createModelFromEnv({ ANTHROPIC_API_KEY: 'k' }).model.maxContextTokens).toBe(200_000);
    expect(
      createModelFromEnv({ OPENAI_BASE_URL: openai.baseURL, STELLO_MODEL: 'my-local-model' }).model
        .maxContextTokens,
    ).toBe(32_768);
    const overridden = createModelFromEnv({ ANTHROPIC_API_KEY: 'k', STELLO_MAX_CONTEXT_TOKENS: '50000' });
    expect(overridden.model.maxContextTokens).toBe(50_000);
    expect(createModelFromEnv({ STELLO_MAX_CONTEXT_TOKENS: '9000' }).model.maxContextTokens).toBe(9_000);
  });

  it('sends STELLO_MAX_OUTPUT_TOKENS as the output cap, 4096 by default', async () => {
    openai.requests.length = 0;
    await createModelFromEnv({ OPENAI_BASE_URL: openai.baseURL }).model.complete([
      { role: 'user', content: 'a' },
    ]);
    await createModelFromEnv({
      OPENAI_BASE_URL: openai.baseURL,
      STELLO_MAX_OUTPUT_TOKENS: '777',
    }).model.complete([{ role: 'user', content: 'b' }]);
    expect(openai.requests.map((request) => request.body.max_tokens)).toEqual([4096, 777]);
    anthropic.requests.length = 0;
    await createModelFromEnv({
      ANTHROPIC_API_KEY: 'k',
      ANTHROPIC_BASE_URL: anthropic.baseURL,
      STELLO_MAX_OUTPUT_TOKENS: '1234',
    }).model.complete([{ role: 'user', content: 'c' }]);
    expect(anthropic.requests[0]!.body.max_tokens).toBe(1234);
  });

  it('refuses a malformed token setting with its name', () => {
    expect(() => createModelFromEnv({ STELLO_MAX_CONTEXT_TOKENS: '32k' })).toThrow(
      /STELLO_MAX_CONTEXT_TOKENS/,
    );
    expect(() => createModelFromEnv({ ANTHROPIC_API_KEY: 'k', STELLO_MAX_OUTPUT_TOKENS: '0' })).toThrow(
      /STELLO_MAX_OUTPUT_TOKENS/,
    );
  });

  it('defaults to a Claude model named in the installed Anthropic SDK model list', async () => {
    // The SDK's `Model` type also takes any string, so the check reads its list of known names.
    const types = await readFile(
      new URL(
        '../../session/node_modules/@anthropic-ai/sdk/resources/messages/messages.d.ts',
        import.meta.url,
      ),
      'utf8',
    );
    const union = /export type Model = ([^;]+);/.exec(types)?.[1] ?? '';
    const known = [...union.matchAll(/'([^']+)'/g)].map((match) => match[1]);
    expect(known).toContain(DEFAULT_ANTHROPIC_MODEL);
  });
});

describe('redactUrl', () => {
  it('keeps credentials and query keys of a base URL out of the banner and the logs', () => {
    const { description } = createModelFromEnv({
      OPENAI_BASE_URL: 'https://user:s3cret@llm.example/v1?api-key=k3y',
      OPENAI_API_KEY: 'sk-x',
    });
    expect(description).not.toMatch(/s3cret|k3y|user:/);
    expect(description).toContain('https://***:***@llm.example/v1?***');
    expect(redactUrl('not a url with secret')).not.toContain('secret');
  });
});
