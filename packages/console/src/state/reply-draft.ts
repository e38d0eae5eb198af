import type { TurnFrame } from '@stello-ai/client';

/** A tool call of the reply being streamed, with its result once it came. */
export interface DraftToolCall {
  callId: string;
  name: string;
  input: unknown;
  result?: { ok: boolean; output?: unknown; error?: string };
}

/** The reply being streamed: its text so far, its tool calls, and whether it ended. */
export interface ReplyDraft {
  input: string;
  text: string;
  toolCalls: DraftToolCall[];
  done: boolean;
  cancelled: boolean;
}

/** A draft for a turn just sent. */
export function startDraft(input: string): ReplyDraft {
  return { input, text: '', toolCalls: [], done: false, cancelled: false };
}

/** The draft after one frame of the stream (a new object: the view re-renders on identity). */
export function applyFrame(draft: ReplyDraft, frame: TurnFrame): ReplyDraft {
  switch (frame.type) {
    case 'stream.delta':
      return { ...draft, text: draft.text + frame.chunk };
    case 'tool.call':
      return {
        ...draft,
        toolCalls: [...draft.toolCalls, { callId: frame.callId, name: frame.name, input: frame.input }],
      };
    case 'tool.result':
      return {
        ...draft,
        toolCalls: draft.toolCalls.map((call) =>
          call.callId === frame.callId
            ? {
                ...call,
                result: {
                  ok: frame.ok,
                  ...(frame.output !== undefined && { output: frame.output }),
                  ...(frame.error !== undefined && { error: frame.error }),
                },
              }
            : call,
        ),
      };
    case 'stream.end':
      return { ...draft, done: true, text: draft.text || (frame.result.turn.finalContent ?? '') };
    case 'turn.cancelled':
      return { ...draft, done: true, cancelled: true };
  }
}

/** A value shown to a person: strings as they are, the rest as compact JSON. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
