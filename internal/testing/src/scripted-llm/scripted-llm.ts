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
  /** A copy of the prompt, taken when the call started. */
  messages: Message[];
  /** Names of the tools offered to the model. */
  tools: string[];
  options: LLMCompleteOptions | undefined;
  signal: AbortSignal | undefined;
  streamed: boolean;
}

/** One scripted answer: a result, plus what the fake should do around it. */
export interface ScriptedStep extends Partial<LLMResult> {
  /** Stream exactly these chunks instead of splitting `content` and `toolCalls`. */
  chunks?: LLMChunk[];
  /** Reject with this error. */
  error?: Error;
  /** Wait until the call's signal aborts, then reject like a real adapter. */
  hangUntilAborted?: boolean;
  /** Runs when the call starts (e.g. to write to storage in the middle of a turn). */
  before?: () => Promise<void> | void;
}

/** Decides the answer of one call from what the model was asked. */
export type ScriptedReply = (call: ScriptedCall) => ScriptedStep | Promise<ScriptedStep>;

/** A deterministic fake chat model: answers come from a script, every call is recorded. */
export interface ScriptedLLM extends LLMAdapter {
  readonly calls: ScriptedCall[];
}

export interface ScriptedLLMOptions {
  /** `false` builds an adapter without `stream`. */
  stream?: boolean;
  maxContextTokens?: number;
  model?: string;
}

function abortError(): Error {
  const error = new Error('aborted');
  error.name = 'AbortError';
  return error;
}

async function prepare(step: ScriptedStep, signal: AbortSignal | undefined): Promise<void> {
  await step.before?.();
  if (step.hangUntilAborted) {
    await new Promise<void>((_, reject) => {
      if (!signal) return;
      if (signal.aborted) reject(abortError());
      signal.addEventListener('abort', () => reject(abortError()), { once: true });
    });
  }
  if (step.error) throw step.error;
}

function toResult(step: ScriptedStep): LLMResult {
  const result: LLMResult = { content: step.content === undefined ? null : step.content };
  if (step.toolCalls) result.toolCalls = step.toolCalls;
  if (step.usage) result.usage = step.usage;
  if (step.metadata) result.metadata = step.metadata;
  return result;
}

/** The chunks of a streamed answer: one per word, each tool call in two argument fragments, then usage. */
function* chunksOf(step: ScriptedStep): Generator<LLMChunk> {
  for (const word of (step.content ?? '').match(/\S+\s*|\s+/g) ?? []) yield { delta: word };
  for (const [index, toolCall] of (step.toolCalls ?? []).entries()) {
    const args = JSON.stringify(toolCall.input);
    const half = Math.ceil(args.length / 2);
    yield {
      delta: '',
      toolCallDeltas: [{ index, id: toolCall.id, name: toolCall.name, input: args.slice(0, half) }],
    };
    yield { delta: '', toolCallDeltas: [{ index, input: args.slice(half) }] };
  }
  if (step.usage) yield { delta: '', usage: step.usage };
}

/**
 * Creates the scripted model. `script` is either a function deciding each answer from the call,
 * or a list of answers given in order (`{ content: 'ok' }` once it runs out).
 */
export function createScriptedLLM(
  script: ScriptedReply | ScriptedStep[] = [],
  options: ScriptedLLMOptions = {},
): ScriptedLLM {
  const queue = Array.isArray(script) ? [...script] : [];
  const decide: ScriptedReply =
    typeof script === 'function' ? script : () => queue.shift() ?? { content: 'ok' };
  const calls: ScriptedCall[] = [];
  const start = (messages: Message[], callOptions: LLMCompleteOptions | undefined, streamed: boolean) => {
    const call: ScriptedCall = {
      index: calls.length,
      messages: structuredClone(messages),
      tools: (callOptions?.tools ?? []).map((entry) => entry.name),
      options: callOptions,
      signal: callOptions?.signal,
      streamed,
    };
    calls.push(call);
    return call;
  };
  const adapter: ScriptedLLM = {
    calls,
    maxContextTokens: options.maxContextTokens ?? 100_000,
    ...(options.model ? { model: options.model } : {}),
    async complete(messages, callOptions) {
      const call = start(messages, callOptions, false);
      callOptions?.signal?.throwIfAborted();
      const step = await decide(call);
      await prepare(step, callOptions?.signal);
      return toResult(step);
    },
  };
  if (options.stream !== false) {
    adapter.stream = async function* stream(messages, callOptions): AsyncGenerator<LLMChunk> {
      const call = start(messages, callOptions, true);
      callOptions?.signal?.throwIfAborted();
      const step = await decide(call);
      await prepare(step, callOptions?.signal);
      for (const chunk of step.chunks ?? chunksOf(step)) {
        await Promise.resolve();
        callOptions?.signal?.throwIfAborted();
        yield chunk;
      }
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
