import { estimateTextTokens } from './estimate-text-tokens';
import type { TokenCounter } from './token-counter';
import { cachedCount } from './token-counter';

type Encoding = 'o200k_base' | 'cl100k_base';
type Encoder = {
  encode(text: string, allowedSpecial?: 'all' | string[], disallowedSpecial?: 'all' | string[]): number[];
};

// The rank files are megabytes of data: import them only when a counter first needs one.
async function loadEncoder(encoding: Encoding): Promise<Encoder> {
  const { Tiktoken } = await import('js-tiktoken/lite');
  const ranks =
    encoding === 'o200k_base'
      ? (await import('js-tiktoken/ranks/o200k_base')).default
      : (await import('js-tiktoken/ranks/cl100k_base')).default;
  return new Tiktoken(ranks);
}

const counters = new Map<Encoding, TokenCounter>();

/**
 * The counter of an OpenAI encoding, shared by every adapter that uses it. Until `load()` has
 * resolved it counts with the script-aware estimate, which does not undercount by much.
 */
export function tiktokenCounter(encoding: Encoding): TokenCounter {
  const existing = counters.get(encoding);
  if (existing) return existing;
  let encoder: Encoder | undefined;
  let loading: Promise<void> | undefined;
  // Text that looks like a special token (`<|endoftext|>`) is counted as plain text, as user input is.
  const exact = cachedCount((text) => encoder!.encode(text, [], []).length);
  const counter: TokenCounter = {
    name: encoding,
    count: (text) => (encoder ? exact(text) : estimateTextTokens(text)),
    load() {
      loading ??= loadEncoder(encoding).then(
        (loaded) => {
          encoder = loaded;
        },
        (error: unknown) => {
          loading = undefined;
          throw error;
        },
      );
      return loading;
    },
  };
  counters.set(encoding, counter);
  return counter;
}

// OpenAI's own models by encoding. Other models behind an OpenAI-compatible endpoint (DeepSeek,
// Qwen, Llama, Mistral…) have tokenizers of their own: they get the script-aware estimate.
const O200K_PREFIXES = ['gpt-4o', 'gpt-4.1', 'gpt-4.5', 'gpt-5', 'o1', 'o3', 'o4', 'chatgpt-4o', 'gpt-oss'];
const CL100K_PREFIXES = ['gpt-4', 'gpt-3.5', 'gpt-35'];

/**
 * The tiktoken encoding of an OpenAI model by name (provider prefixes such as `openai/` are
 * ignored), or `null` for a model that is not OpenAI's.
 */
export function openAIEncodingFor(model: string): Encoding | null {
  const name = (model.split('/').pop() ?? model).toLowerCase();
  if (O200K_PREFIXES.some((prefix) => name.startsWith(prefix))) return 'o200k_base';
  if (CL100K_PREFIXES.some((prefix) => name.startsWith(prefix))) return 'cl100k_base';
  return null;
}
