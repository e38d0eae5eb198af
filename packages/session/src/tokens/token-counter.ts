import { estimateTextTokens } from './estimate-text-tokens';

/** The tokenizers a counter can stand for: a real OpenAI encoding or the script-aware estimate. */
export type TokenizerName = 'o200k_base' | 'cl100k_base' | 'estimate';

/**
 * Counts the tokens of a text for one model family. `count` is synchronous; a counter backed by a
 * rank file loads it in `load()` (once, shared) and estimates until then.
 */
export interface TokenCounter {
  readonly name: TokenizerName;
  count(text: string): number;
  /** Loads what `count` needs; resolves at once when nothing is to load. */
  load(): Promise<void>;
}

// Counts of texts already seen, per counter: a turn re-counts the same history every time, and
// the records of a window are new objects on each read, so the text is the key.
const MAX_CACHED_TEXTS = 20_000;
// Short texts are cheaper to count than to hash and keep.
const MIN_CACHED_LENGTH = 64;

/** Wraps `count` in a bounded cache keyed by text (oldest entries are dropped first). */
export function cachedCount(count: (text: string) => number): (text: string) => number {
  const cache = new Map<string, number>();
  return (text) => {
    if (text.length < MIN_CACHED_LENGTH) return count(text);
    const hit = cache.get(text);
    if (hit !== undefined) return hit;
    const tokens = count(text);
    if (cache.size >= MAX_CACHED_TEXTS) cache.delete(cache.keys().next().value!);
    cache.set(text, tokens);
    return tokens;
  };
}

/** The script-aware estimate (see `estimateTextTokens`), for Anthropic and unknown models. */
export const estimateTokenCounter: TokenCounter = {
  name: 'estimate',
  count: cachedCount(estimateTextTokens),
  load: () => Promise.resolve(),
};
