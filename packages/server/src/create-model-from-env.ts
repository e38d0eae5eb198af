import {
  createAnthropicAdapter,
  createOfflineAdapter,
  createOpenAICompatibleAdapter,
  type LLMAdapter,
} from '@stello-ai/session';

/** Model used with `ANTHROPIC_API_KEY` when `STELLO_MODEL` is unset. */
export const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-5';
/** Model used with `OPENAI_API_KEY` / `OPENAI_BASE_URL` when `STELLO_MODEL` is unset. */
export const DEFAULT_OPENAI_MODEL = 'gpt-4o-mini';

/** The environment variables {@link createModelFromEnv} reads. */
export interface ModelEnv {
  ANTHROPIC_API_KEY?: string | undefined;
  ANTHROPIC_BASE_URL?: string | undefined;
  OPENAI_API_KEY?: string | undefined;
  OPENAI_BASE_URL?: string | undefined;
  STELLO_MODEL?: string | undefined;
  /** Context window budgeted for the model; overrides the per-model default. */
  STELLO_MAX_CONTEXT_TOKENS?: string | undefined;
  /** Generated-token cap of every call; overrides the per-model default (4096). */
  STELLO_MAX_OUTPUT_TOKENS?: string | undefined;
}

/** The chat model chosen from the environment, and how to describe it in a start-up banner. */
export interface ModelFromEnv {
  model: LLMAdapter;
  /** Which provider was chosen. */
  provider: 'anthropic' | 'openai-compatible' | 'offline';
  /** One human line naming the provider and model (never a key). */
  description: string;
}

function setting(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** Reads a positive-integer token setting; a malformed value stops the start-up with its name. */
function tokenSetting(
  env: ModelEnv,
  name: 'STELLO_MAX_CONTEXT_TOKENS' | 'STELLO_MAX_OUTPUT_TOKENS',
): number | undefined {
  const value = setting(env[name]);
  if (value === undefined) return undefined;
  const tokens = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(tokens) || tokens < 1) {
    throw new Error(`${name} must be a positive integer of tokens, got "${value}"`);
  }
  return tokens;
}

/** The adapter options the two token overrides set, left out when unset. */
function tokenLimits(env: ModelEnv): { maxContextTokens?: number; maxTokens?: number } {
  const maxContextTokens = tokenSetting(env, 'STELLO_MAX_CONTEXT_TOKENS');
  const maxTokens = tokenSetting(env, 'STELLO_MAX_OUTPUT_TOKENS');
  return {
    ...(maxContextTokens !== undefined && { maxContextTokens }),
    ...(maxTokens !== undefined && { maxTokens }),
  };
}

/**
 * Chooses the chat model from environment variables: `ANTHROPIC_API_KEY` selects Claude
 * (`STELLO_MODEL`, default `claude-sonnet-5`); otherwise `OPENAI_API_KEY` or `OPENAI_BASE_URL`
 * selects an OpenAI-compatible endpoint (`STELLO_MODEL`, default `gpt-4o-mini`); otherwise the
 * deterministic offline model, which needs no key and no network. Empty values count as unset.
 * The context window defaults per model (the adapters' tables: 200000 for Claude, GPT-4o 128000,
 * unknown models 32768) and the output cap to 4096; `STELLO_MAX_CONTEXT_TOKENS` and
 * `STELLO_MAX_OUTPUT_TOKENS` override them (a malformed value throws).
 *
 * @example
 * const { model, description } = createModelFromEnv(process.env);
 * logger.info('server.model', { description });
 */
export function createModelFromEnv(env: ModelEnv = process.env): ModelFromEnv {
  const anthropicKey = setting(env.ANTHROPIC_API_KEY);
  const openaiKey = setting(env.OPENAI_API_KEY);
  const openaiBaseURL = setting(env.OPENAI_BASE_URL);
  const modelName = setting(env.STELLO_MODEL);
  const limits = tokenLimits(env);

  if (anthropicKey !== undefined) {
    const model = modelName ?? DEFAULT_ANTHROPIC_MODEL;
    const baseURL = setting(env.ANTHROPIC_BASE_URL);
    return {
      model: createAnthropicAdapter({
        apiKey: anthropicKey,
        model,
        ...limits,
        ...(baseURL !== undefined && { baseURL }),
      }),
      provider: 'anthropic',
      description: `Anthropic ${model}${baseURL === undefined ? '' : ` at ${redactUrl(baseURL)}`}`,
    };
  }
  if (openaiKey !== undefined || openaiBaseURL !== undefined) {
    const model = modelName ?? DEFAULT_OPENAI_MODEL;
    return {
      model: createOpenAICompatibleAdapter({
        model,
        ...limits,
        ...(openaiKey !== undefined && { apiKey: openaiKey }),
        ...(openaiBaseURL !== undefined && { baseURL: openaiBaseURL }),
      }),
      provider: 'openai-compatible',
      description: `OpenAI-compatible ${model} at ${redactUrl(openaiBaseURL ?? 'https://api.openai.com/v1')}`,
    };
  }
  return {
    model: createOfflineAdapter(
      limits.maxContextTokens === undefined ? {} : { maxContextTokens: limits.maxContextTokens },
    ),
    provider: 'offline',
    description:
      'offline model (no LLM key set: replies are generated locally; set ANTHROPIC_API_KEY, OPENAI_API_KEY or OPENAI_BASE_URL for a real model)',
  };
}

/**
 * A URL fit for logs: user name, password and query string (where proxies put keys) replaced by
 * `***`. Text that does not parse as a URL is withheld entirely.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<unparseable URL withheld>';
  }
  if (parsed.username) parsed.username = '***';
  if (parsed.password) parsed.password = '***';
  if (parsed.search) parsed.search = '?***';
  parsed.hash = '';
  return parsed.toString();
}
