export type { AnthropicAdapterOptions } from './anthropic';
export {
  createAnthropicAdapter,
  DEFAULT_ANTHROPIC_MAX_CONTEXT_TOKENS,
  DEFAULT_ANTHROPIC_MAX_TOKENS,
} from './anthropic';
export { createLLMCallFn } from './llm-call';
export type { OfflineAdapterOptions } from './offline';
export { createOfflineAdapter, DEFAULT_OFFLINE_MAX_CONTEXT_TOKENS } from './offline';
export type { OpenAICompatibleAdapterOptions } from './openai-compatible';
export {
  createOpenAICompatibleAdapter,
  DEFAULT_OPENAI_MAX_CONTEXT_TOKENS,
  DEFAULT_OPENAI_MAX_TOKENS,
  defaultOpenAIContextTokens,
} from './openai-compatible';
