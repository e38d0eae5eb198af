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

/**
 * Chooses the chat model from environment variables: `ANTHROPIC_API_KEY` selects Claude
 * (`STELLO_MODEL`, default `claude-sonnet-5`); otherwise `OPENAI_API_KEY` or `OPENAI_BASE_URL`
 * selects an OpenAI-compatible endpoint (`STELLO_MODEL`, default `gpt-4o-mini`); otherwise the
 * deterministic offline model, which needs no key and no network. Empty values count as unset.
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

  if (anthropicKey !== undefined) {
    const model = modelName ?? DEFAULT_ANTHROPIC_MODEL;
    const baseURL = setting(env.ANTHROPIC_BASE_URL);
    return {
      model: createAnthropicAdapter({
        apiKey: anthropicKey,
        model,
        ...(baseURL !== undefined && { baseURL }),
      }),
      provider: 'anthropic',
      description: `Anthropic ${model}${baseURL === undefined ? '' : ` at ${baseURL}`}`,
    };
  }
  if (openaiKey !== undefined || openaiBaseURL !== undefined) {
    const model = modelName ?? DEFAULT_OPENAI_MODEL;
    return {
      model: createOpenAICompatibleAdapter({
        model,
        ...(openaiKey !== undefined && { apiKey: openaiKey }),
        ...(openaiBaseURL !== undefined && { baseURL: openaiBaseURL }),
      }),
      provider: 'openai-compatible',
      description: `OpenAI-compatible ${model} at ${openaiBaseURL ?? 'https://api.openai.com/v1'}`,
    };
  }
  return {
    model: createOfflineAdapter(),
    provider: 'offline',
    description:
      'offline model (no LLM key set: replies are generated locally; set ANTHROPIC_API_KEY, OPENAI_API_KEY or OPENAI_BASE_URL for a real model)',
  };
}
