import type { TurnFrame } from '@stello-ai/client';
import { describe, expect, it } from 'vitest';
import { applyFrame, showValue, startDraft } from './reply-draft';

const turnId = '00000000-0000-4000-8000-000000000001';
const result = {
  turnId,
  turn: { finalContent: 'It is noon.', toolRoundCount: 1, toolCallsExecuted: 1, rawResponse: '{}' },
};

describe('applyFrame', () => {
  it('builds the reply from deltas, tool calls and their results, then ends', () => {
    const frames: TurnFrame[] = [
      { type: 'tool.call', turnId, seq: 1, callId: 'c1', name: 'clock', input: { zone: 'UTC' } },
      { type: 'tool.result', turnId, seq: 2, callId: 'c1', ok: true, output: 'noon' },
      { type: 'stream.delta', turnId, seq: 3, chunk: 'It is ' },
      { type: 'stream.delta', turnId, seq: 4, chunk: 'noon.' },
      { type: 'stream.end', turnId, seq: 5, result },
    ];
    const seen = frames.reduce(
      (drafts, frame) => [...drafts, applyFrame(drafts.at(-1)!, frame)],
      [startDraft('time?')],
    );
    expect(seen[3]).toMatchObject({ text: 'It is ', done: false });
    expect(seen.at(-1)).toEqual({
      input: 'time?',
      text: 'It is noon.',
      toolCalls: [
        { callId: 'c1', name: 'clock', input: { zone: 'UTC' }, result: { ok: true, output: 'noon' } },
      ],
      done: true,
      cancelled: false,
    });
  });

  it('takes the stored answer when no delta came, and marks a failed tool and a cancel', () => {
    const ended = applyFrame(startDraft('hi'), { type: 'stream.end', turnId, seq: 1, result });
    expect(ended.text).toBe('It is noon.');
    let draft = applyFrame(startDraft('x'), {
      type: 'tool.call',
      turnId,
      seq: 1,
      callId: 'c',
      name: 't',
      input: {},
    });
    draft = applyFrame(draft, { type: 'tool.result', turnId, seq: 2, callId: 'c', ok: false, error: 'boom' });
    expect(draft.toolCalls[0]?.result).toEqual({ ok: false, error: 'boom' });
    expect(applyFrame(draft, { type: 'turn.cancelled', turnId })).toMatchObject({
      done: true,
      cancelled: true,
    });
  });
});

describe('showValue', () => {
  it('shows strings as they are and the rest as JSON', () => {
    expect(showValue('noon')).toBe('noon');
    expect(showValue({ a: [1, 2] })).toBe('{"a":[1,2]}');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(showValue(circular)).toBe('[object Object]');
  });
});
