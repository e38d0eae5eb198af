import { errorFromFrame, StelloApiError } from '../errors';
import type { TurnFrame, TurnResult } from '../wire';
import { PushQueue } from './push-queue';

/**
 * A streamed turn: iterate its frames with `for await`, or await `result`. The frames come in
 * `seq` order with none twice, across reconnects and resumes; the iteration ends after the terminal
 * frame (`stream.end`, or `turn.cancelled`), and throws a {@link StelloApiError} when the turn
 * failed. Breaking out of the loop stops listening; it does not cancel the turn (`cancel()` does).
 */
export interface TurnStream extends AsyncIterable<TurnFrame> {
  /** The turn's id (chosen by the client, so known at once). */
  readonly turnId: string;
  /** The turn's result once stored; rejects with `TURN_CANCELLED` or the turn's error. */
  readonly result: Promise<TurnResult>;
  /** The `seq` of the last frame received (0 before any). */
  readonly lastSeq: number;
  /** Asks the server to cancel the turn; the stream then ends with `turn.cancelled`. */
  cancel(): Promise<void>;
}

/** The feeding side of a {@link TurnStream}, kept by the transport that receives its frames. */
export interface TurnStreamSink {
  readonly stream: TurnStream;
  /** True once the turn ended (its terminal frame or a failure arrived). */
  readonly settled: boolean;
  /** True when frames have been received. */
  readonly started: boolean;
  /** Takes one frame (an `error` frame included); true when it ended the turn. Duplicates are dropped. */
  accept(frame: TurnFrame | { type: 'error'; seq?: number; code?: unknown; message?: unknown }): boolean;
  /** Ends the turn with its result (a non-streamed `turn.complete`). */
  complete(result: TurnResult): void;
  /** Ends the turn with an error. */
  fail(error: unknown): void;
}

/** Hooks of {@link createTurnStream}. */
export interface TurnStreamHooks {
  /** What `cancel()` does. */
  cancel(): Promise<void>;
  /** Called when the reader stops early (a `break`); the transport may stop receiving. */
  onDetach?(): void;
}

/** Makes a {@link TurnStream} and the sink that feeds it. */
export function createTurnStream(turnId: string, hooks: TurnStreamHooks): TurnStreamSink {
  let lastSeq = 0;
  let settled = false;
  let started = false;
  let resolveResult: (result: TurnResult) => void = () => {};
  let rejectResult: (error: unknown) => void = () => {};
  const result = new Promise<TurnResult>((resolve, reject) => {
    resolveResult = resolve;
    rejectResult = reject;
  });
  // A caller that only iterates must not get an unhandled rejection; awaiting `result` still throws.
  result.catch(() => {});
  const queue = new PushQueue<TurnFrame>(() => hooks.onDetach?.());

  const fail = (error: unknown) => {
    if (settled) return;
    settled = true;
    queue.fail(error);
    rejectResult(error);
  };

  const stream: TurnStream = {
    turnId,
    result,
    get lastSeq() {
      return lastSeq;
    },
    cancel: () => hooks.cancel(),
    [Symbol.asyncIterator]: () => queue,
  };

  return {
    stream,
    get settled() {
      return settled;
    },
    get started() {
      return started;
    },
    accept(frame) {
      if (settled) return true;
      const seq = typeof frame.seq === 'number' ? frame.seq : undefined;
      // A resume replays from `afterSeq`: anything at or before the last frame seen is a duplicate.
      if (seq !== undefined && seq > 0 && seq <= lastSeq) return false;
      if (seq !== undefined) lastSeq = Math.max(lastSeq, seq);
      started = true;
      if (frame.type === 'error') {
        fail(errorFromFrame(frame));
        return true;
      }
      queue.push(frame);
      if (frame.type === 'stream.end') {
        settled = true;
        queue.end();
        resolveResult(frame.result);
        return true;
      }
      if (frame.type === 'turn.cancelled') {
        settled = true;
        queue.end();
        rejectResult(new StelloApiError('TURN_CANCELLED', `turn "${turnId}" was cancelled`, { status: 409 }));
        return true;
      }
      return false;
    },
    complete(turnResult) {
      if (settled) return;
      settled = true;
      started = true;
      queue.end();
      resolveResult(turnResult);
    },
    fail,
  };
}
