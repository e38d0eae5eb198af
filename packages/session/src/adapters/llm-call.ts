import type { LLMAdapter, LLMCallFn } from '../llm/llm';

/**
 * Wraps an adapter as a text-in/text-out {@link LLMCallFn} (used by the default consolidate and
 * integrate functions). No tools are offered, so the answer is the reply text, or `''` when the
 * model returned none.
 */
export function createLLMCallFn(adapter: LLMAdapter): LLMCallFn {
  return async (messages) => {
    const result = await adapter.complete(messages.map(({ role, content }) => ({ role, content })));
    return result.content ?? '';
  };
}
