import type { LLMAdapter, LLMChunk, LLMCompleteOptions, LLMResult } from '../llm';
import type { Message } from '../types';

/** One scripted answer of the fake model. */
export interface ScriptedStep extends Partial<LLMResult> {
  /** Stream these chunks instead of splitting `content`. */
  chunks?: LLMChunk[];
  /** Reject with this error. */
  error?: Error;
  /** Wait until the call's signal aborts, then reject like a real adapter. */
  hangUntilAborted?: boolean;
  /** Runs when the call starts (e.g. to write to storage in the middle of a turn). */
  before?: () => Promise<void> | void;
}

/** A scripted `LLMAdapter` that records every call. */
export interface ScriptedLLM extends LLMAdapter {
  readonly calls: { messages: Message[]; options: LLMCompleteOptions | undefined; streamed: boolean }[];
}

function abortError(): Error {
  const error = new Error('aborted');
  error.name = 'AbortError';
  return error;
}

async function run(step: ScriptedStep, options: LLMCompleteOptions | undefined): Promise<void> {
  await step.before?.();
  if (step.hangUntilAborted) {
    await new Promise<void>((_, reject) => {
      const signal = options?.signal;
      if (!signal) return;
      if (signal.aborted) reject(abortError());
      signal.addEventListener('abort', () => reject(abortError()), { once: true });
    });
  }
  if (step.error) throw step.error;
}

/**
 * Creates a fake model answering with `steps` in order (`{ content: 'ok' }` once they run out).
 * `stream: false` builds an adapter without `stream`.
 */
export function createScriptedLLM(
  steps: ScriptedStep[] = [],
  options: { maxContextTokens?: number; stream?: boolean; model?: string } = {},
): ScriptedLLM {
  const queue = [...steps];
  const calls: ScriptedLLM['calls'] = [];
  const next = (): ScriptedStep => queue.shift() ?? { content: 'ok' };
  const snapshot = (messages: Message[]) => structuredClone(messages);
  const adapter: ScriptedLLM = {
    calls,
    maxContextTokens: options.maxContextTokens ?? 100_000,
    ...(options.model ? { model: options.model } : {}),
    async complete(messages, callOptions) {
      calls.push({ messages: snapshot(messages), options: callOptions, streamed: false });
      const step = next();
      await run(step, callOptions);
      const result: LLMResult = { content: step.content === undefined ? null : step.content };
      if (step.toolCalls) result.toolCalls = step.toolCalls;
      if (step.usage) result.usage = step.usage;
      if (step.metadata) result.metadata = step.metadata;
      return result;
    },
  };
  if (options.stream !== false) {
    adapter.stream = async function* (messages, callOptions) {
      calls.push({ messages: snapshot(messages), options: callOptions, streamed: true });
      const step = next();
      await run(step, callOptions);
      const chunks =
        step.chunks ?? [...(step.content ?? '').matchAll(/.{1,3}/gs)].map((m) => ({ delta: m[0] }));
      for (const chunk of chunks) {
        await Promise.resolve();
        yield chunk;
      }
    };
  }
  return adapter;
}
