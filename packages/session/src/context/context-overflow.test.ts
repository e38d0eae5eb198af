import { type FakeLLMServer, startFakeAnthropic, startFakeOpenAI } from '@internal/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAnthropicAdapter } from '../adapters/anthropic';
import { createOpenAICompatibleAdapter } from '../adapters/openai-compatible';
import { InMemoryStorageAdapter } from '../in-memory/in-memory-storage';
import type { LLMAdapter } from '../llm/llm';
import { createMainSession } from '../sessions/main-session';
import { createSession } from '../sessions/session';
import type { TokenCounter } from '../tokens/token-counter';

// The estimate this package used before: about four times too low for Chinese.
const charsOverFour: TokenCounter = {
  name: 'estimate',
  count: (text) => Math.ceil(text.length / 4),
  load: () => Promise.resolve(),
};

const SENTENCES = [
  '我们今天讨论一下这个项目的整体架构，会话是最小的单位。',
  '每个会话都有自己的历史记录、系统提示和长期记忆。',
  '主会话负责综合所有分支的内容，并把洞察下发给子会话。',
  '当历史太长时，系统会把旧的消息压缩成摘要，这样上下文窗口就不会被撑爆。',
  '数据库使用关系型存储，每个租户的数据都限定在自己的空间里。',
];

/** About `chars` characters of Chinese, different for every `seed`. */
function chinese(seed: number, chars: number): string {
  let text = `第${seed}轮：`;
  for (let i = seed; text.length < chars; i += 1) text += SENTENCES[i % SENTENCES.length];
  return text.slice(0, chars);
}

async function childSession(llm: LLMAdapter) {
  const storage = new InMemoryStorageAdapter();
  const main = await createMainSession({ storage, label: 'Space', systemPrompt: '你是一个乐于助人的助手。' });
  const session = await createSession({ storage, parentId: main.id, label: '对话', llm });
  return { storage, session };
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code });
}

describe('context overflow on the fake OpenAI-compatible provider', () => {
  let fake: FakeLLMServer;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ maxPromptTokens: 2_000 });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.setScript(() => ({ content: '好的，明白了。' }));
  });

  const adapter = (tokenCounter?: TokenCounter) =>
    createOpenAICompatibleAdapter({
      apiKey: 'k',
      baseURL: fake.baseURL,
      model: 'deepseek-chat',
      maxContextTokens: 2_000,
      maxTokens: 200,
      maxRetries: 0,
      ...(tokenCounter ? { tokenCounter } : {}),
    });

  it('maps the provider refusal to CONTEXT_TOO_LONG with the provider and status', async () => {
    const error = await adapter()
      .complete([{ role: 'user', content: chinese(0, 3_000) }])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'CONTEXT_TOO_LONG',
      details: { provider: 'openai-compatible', status: 400 },
    });
  });

  it('trims harder and retries once when its count was too low, and the turn succeeds', async () => {
    const { session } = await childSession(adapter(charsOverFour));
    for (let turn = 0; turn < 20; turn += 1) await session.send(chinese(turn, 150));

    // One request per turn, plus a retry for each turn whose first prompt was refused.
    const sizes = fake.requests.map((request) => (request.body.messages as unknown[]).length);
    expect(sizes.length).toBeGreaterThan(20);
    // A retry carries at most half the history of the refused prompt it follows.
    const refused = sizes.findIndex((size, i) => i + 1 < sizes.length && sizes[i + 1]! < size);
    expect(refused).toBeGreaterThan(0);
    expect(sizes[refused + 1]! - 2).toBeLessThanOrEqual((sizes[refused]! - 2) / 2 + 1);
    expect(await session.messages()).toHaveLength(40);
  });

  it('fails with CONTEXT_TOO_LONG and stores nothing when the new input alone does not fit', async () => {
    const { session } = await childSession(adapter());
    await session.send('你好');
    fake.requests.length = 0;

    await expectCode(session.send(chinese(1, 3_000)), 'CONTEXT_TOO_LONG');
    expect(await session.messages()).toHaveLength(2);
  });

  // o200k_base and cl100k_base counted exactly; a model with a tokenizer of its own is estimated
  // while the provider counts with cl100k_base.
  it.each(['gpt-4o-mini', 'gpt-3.5-turbo', 'deepseek-chat'])(
    'runs a 300-turn Chinese session of %s in a 32k window without a failed turn',
    async (model) => {
      const big = await startFakeOpenAI({ maxPromptTokens: 32_768 });
      try {
        big.setScript((request) => ({ content: chinese(request.body.messages.length, 120) }));
        const llm = createOpenAICompatibleAdapter({
          apiKey: 'k',
          baseURL: big.baseURL,
          model,
          maxContextTokens: 32_768,
          maxRetries: 0,
        });
        const { session } = await childSession(llm);
        for (let turn = 0; turn < 300; turn += 1) await session.send(chinese(turn, 200));

        expect(await session.messages()).toHaveLength(600);
        // Every request was answered: none was refused as too long.
        expect(big.requests).toHaveLength(300);
        expect(big.requests.every((request) => request.outcome === 'completed')).toBe(true);
      } finally {
        await big.close();
      }
    },
    60_000,
  );
});

describe('context overflow on the fake Anthropic provider', () => {
  let fake: FakeLLMServer;

  beforeAll(async () => {
    fake = await startFakeAnthropic({ maxPromptTokens: 1_000 });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('answers "prompt is too long" as the real API does, which the adapter maps to CONTEXT_TOO_LONG', async () => {
    const llm = createAnthropicAdapter({
      apiKey: 'k',
      baseURL: fake.baseURL,
      model: 'claude-sonnet-5',
      maxRetries: 0,
    });
    const error = await llm.complete([{ role: 'user', content: chinese(0, 2_000) }]).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'CONTEXT_TOO_LONG',
      details: { provider: 'anthropic', status: 400 },
    });
    expect((error as Error).message).toMatch(/prompt is too long: \d+ tokens > 1000 maximum/);
  });
});
