import { describe, expect, it } from 'vitest';
import type { LLMAdapter, LLMCompleteOptions } from '../llm/llm';
import type { Message } from '../types';
import { createLLMCallFn } from './llm-call';
import { createOfflineAdapter } from './offline';

describe('createLLMCallFn', () => {
  it('returns the reply text of the adapter for role/content messages', async () => {
    const call = createLLMCallFn(createOfflineAdapter());

    const text = await call([
      { role: 'system', content: 'Summarise.' },
      { role: 'user', content: 'A long conversation' },
    ]);

    expect(text).toBe('Offline model reply to "A long conversation" (2 messages in context)');
  });

  it('passes only role and content and no tools, and returns an empty string when the reply has no text', async () => {
    const seen: { messages: Message[]; options: LLMCompleteOptions | undefined }[] = [];
    const adapter: LLMAdapter = {
      maxContextTokens: 1000,
      async complete(messages, options) {
        seen.push({ messages, options });
        return { content: null };
      },
    };
    const extra = { role: 'user' as const, content: 'hi', timestamp: '2025-01-01T00:00:00.000Z' };

    await expect(createLLMCallFn(adapter)([extra])).resolves.toBe('');
    expect(seen).toEqual([{ messages: [{ role: 'user', content: 'hi' }], options: undefined }]);
  });
});
