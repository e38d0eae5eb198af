import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { describe, expect, it } from 'vitest';
import { TOKEN_CORPUS } from '../__fixtures__/token-corpus';
import { estimateTextTokens } from './estimate-text-tokens';
import { openAIEncodingFor, tiktokenCounter } from './tiktoken-counter';
import { cachedCount, estimateTokenCounter } from './token-counter';

const reference = { o200k_base: new Tiktoken(o200k), cl100k_base: new Tiktoken(cl100k) };
const real = (encoding: keyof typeof reference, text: string) =>
  reference[encoding].encode(text, [], []).length;

describe('estimateTextTokens', () => {
  for (const [name, text] of Object.entries(TOKEN_CORPUS)) {
    it(`does not undercount ${name} by more than 10% against cl100k_base and o200k_base`, () => {
      const estimate = estimateTextTokens(text);
      expect(estimate).toBeGreaterThanOrEqual(0.9 * real('cl100k_base', text));
      expect(estimate).toBeGreaterThanOrEqual(0.9 * real('o200k_base', text));
    });
  }

  it('costs Chinese about a token per character, four times the old chars/4 estimate', () => {
    const text = TOKEN_CORPUS.chinese!;
    expect(estimateTextTokens(text)).toBeGreaterThan(text.length);
    expect(estimateTextTokens(text)).toBeGreaterThan(4 * Math.ceil(text.length / 4) * 0.9);
  });

  it('does not overcount English prose by more than half', () => {
    const text = TOKEN_CORPUS.english!;
    expect(estimateTextTokens(text)).toBeLessThan(1.5 * real('cl100k_base', text));
  });

  it('counts nothing as zero', () => {
    expect(estimateTextTokens('')).toBe(0);
  });
});

describe('tiktokenCounter', () => {
  it('counts exactly like js-tiktoken once loaded, and shares one counter per encoding', async () => {
    const counter = tiktokenCounter('o200k_base');
    await counter.load();
    expect(tiktokenCounter('o200k_base')).toBe(counter);
    for (const text of Object.values(TOKEN_CORPUS))
      expect(counter.count(text)).toBe(real('o200k_base', text));
  });

  it('counts special-token look-alikes in user text as plain text instead of throwing', async () => {
    const counter = tiktokenCounter('cl100k_base');
    await counter.load();
    expect(counter.count('before <|endoftext|> after')).toBe(
      real('cl100k_base', 'before <|endoftext|> after'),
    );
  });

  it("picks o200k_base for GPT-4o and later, cl100k_base for GPT-4 and 3.5, none for other vendors' models", () => {
    expect(openAIEncodingFor('gpt-4o-mini')).toBe('o200k_base');
    expect(openAIEncodingFor('openai/gpt-5')).toBe('o200k_base');
    expect(openAIEncodingFor('gpt-4-turbo')).toBe('cl100k_base');
    expect(openAIEncodingFor('gpt-3.5-turbo')).toBe('cl100k_base');
    expect(openAIEncodingFor('deepseek-chat')).toBeNull();
    expect(openAIEncodingFor('qwen2.5:7b')).toBeNull();
  });
});

describe('cachedCount', () => {
  it('counts a long text once and answers repeats from the cache', () => {
    let calls = 0;
    const count = cachedCount((text) => {
      calls += 1;
      return text.length;
    });
    const text = '长'.repeat(100);
    expect(count(text)).toBe(100);
    expect(count(`${'长'.repeat(99)}长`)).toBe(100);
    expect(calls).toBe(1);
  });

  it('backs the estimate counter', () => {
    expect(estimateTokenCounter.count(TOKEN_CORPUS.code!)).toBe(estimateTextTokens(TOKEN_CORPUS.code!));
  });
});
