import type {
  LLMAdapter,
  LLMChunk,
  LLMCompleteOptions,
  LLMResult,
  Message,
  ToolCall,
} from '@stello-ai/session';

/** One model call as the scripted model saw it. */
export interface ScriptedCall {
  index: number;
  messages: Message[];
  tools: string[];
  signal: AbortSignal | undefined;
  streamed: boolean;
}

/** Decides the reply of one call. */
export type ScriptedReply = (call: ScriptedCall) => LLMResult | Promise<LLMResult>;

/** A deterministic fake chat model for tests: replies come from a script, every call is recorded. */
export interface ScriptedLLM extends LLMAdapter {
  readonly calls: ScriptedCall[];
}

/**
 * Creates a scripted model. `reply` decides each answer; streaming splits the content into
 * words (each a delta) and sends tool calls as two argument fragments.
 * @internal test helper
 */
export function createScriptedLLM(reply: ScriptedReply, options: { stream?: boolean } = {}): ScriptedLLM {
  const calls: ScriptedCall[] = [];
  const record = (messages: Message[], callOptions: LLMCompleteOptions | undefined, streamed: boolean) => {
    const call: ScriptedCall = {
      index: calls.length,
      messages: structuredClone(messages),
      tools: (callOptions?.tools ?? []).map((entry) => entry.name),
      signal: callOptions?.signal,
      streamed,
    };
    calls.push(call);
    return call;
  };
  const adapter: ScriptedLLM = {
    model: 'scripted',
    maxContextTokens: 100_000,
    calls,
    async complete(messages, callOptions) {
      const call = record(messages, callOptions, false);
      callOptions?.signal?.throwIfAborted();
      return reply(call);
    },
  };
  if (options.stream !== false) {
    adapter.stream = async function* stream(messages, callOptions): AsyncGenerator<LLMChunk> {
      const call = record(messages, callOptions, true);
      callOptions?.signal?.throwIfAborted();
      const result = await reply(call);
      for (const word of (result.content ?? '').match(/\S+\s*/g) ?? []) {
        await Promise.resolve();
        callOptions?.signal?.throwIfAborted();
        yield { delta: word };
      }
      for (const [index, toolCall] of (result.toolCalls ?? []).entries()) {
        const args = JSON.stringify(toolCall.input);
        const half = Math.ceil(args.length / 2);
        yield {
          delta: '',
          toolCallDeltas: [{ index, id: toolCall.id, name: toolCall.name, input: args.slice(0, half) }],
        };
        yield { delta: '', toolCallDeltas: [{ index, input: args.slice(half) }] };
      }
      if (result.usage) yield { delta: '', usage: result.usage };
    };
  }
  return adapter;
}

/** The last message of a prompt. */
export function lastMessage(call: ScriptedCall): Message {
  const message = call.messages[call.messages.length - 1];
  if (!message) throw new Error('empty prompt');
  return message;
}

/** A tool call literal. */
export function callTool(id: string, name: string, input: Record<string, unknown> = {}): ToolCall {
  return { id, name, input };
}

/** A promise with its resolver, for tests that need to hold something open. */
export function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Resolves after every pending microtask and timer of this tick has run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
