import { expect } from 'vitest';
import type { TurnFrame, TurnResult, TurnStream } from '../index';

/** A reply long enough for the fake model to stream it in many pieces. */
export const LONG_INPUT =
  'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen';

/** Reads a stream to its end; calls `onFrame` after each frame (to act mid-stream). */
export async function collect(
  stream: TurnStream,
  onFrame: (frame: TurnFrame, index: number) => void | Promise<void> = () => {},
): Promise<TurnFrame[]> {
  const frames: TurnFrame[] = [];
  for await (const frame of stream) {
    frames.push(frame);
    await onFrame(frame, frames.length - 1);
  }
  return frames;
}

/** Asserts that the frames are the whole turn: seq 1, 2, … with none missing or twice, text = result. */
export function expectWholeTurn(frames: TurnFrame[], result: TurnResult): void {
  expect(frames.map((frame) => frame.seq)).toEqual(frames.map((_frame, index) => index + 1));
  expect(frames.at(-1)?.type).toBe('stream.end');
  const text = frames.map((frame) => (frame.type === 'stream.delta' ? frame.chunk : '')).join('');
  expect(text).toBe(result.turn.finalContent);
}

/** The rejection of `promise` (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Polls `condition` until true (fails after 10 s). */
export async function waitFor(condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
