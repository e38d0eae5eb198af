import { type SeqFrame, TERMINAL_FRAME_TYPES, type TurnHub } from './turn-hub';

// Live frames of a turn that streams in another process. A resume that lands on a process without
// the turn asks for it on the control channel (`turn.follow`); the process that streams it relays
// its frames back on the same channel (`turn.frames`), batched every few milliseconds and only
// while someone follows, so a turn nobody resumes elsewhere costs nothing.

/** Control event a follower publishes: "send me the frames of `turnId` after `afterSeq`". */
export const TURN_FOLLOW_EVENT = 'turn.follow';
/** Control event of relayed frames: `data.turnId`, `data.frames`, and `data.end` once the stream ended. */
export const TURN_FRAMES_EVENT = 'turn.frames';

/** How long relayed frames are gathered before they leave in one event. */
const FLUSH_MS = 25;
/** Payload budget of one relay event (the channel refuses 7,000 bytes and more). */
const EVENT_BUDGET_BYTES = 6_000;
/** How often a follower repeats its request until the first frames arrive. */
const ASK_AGAIN_MS = 1_000;
/** A follower that hears nothing for this long gives up on the relay (the caller falls back to storage). */
const SILENCE_MS = 15_000;

/** The part of the control channel the relay uses (the storage's `ControlChannel` satisfies it). */
export interface RelayChannel {
  readonly instanceId: number;
  publish(event: { kind: string; data?: Record<string, unknown> }): Promise<void>;
  subscribe(
    listener: (event: { kind: string; instanceId: number; data?: Record<string, unknown> }) => void,
  ): () => void;
}

/** How a relayed follow ended: at the turn's terminal frame, or `open` (ask storage for the end). */
export interface RelayOutcome {
  lastSeq: number;
  ended: boolean;
}

/** One running relay: the last seq it published, and where a follower from further back wants it to restart. */
interface RelayState {
  sent: number;
  replayFrom: number | null;
}

/** Relays the frames of this process's streamed turns to followers in other processes, and follows theirs. */
export class TurnRelay {
  readonly #hub: TurnHub;
  readonly #channel: RelayChannel;
  readonly #relaying = new Map<string, RelayState>();
  readonly #stop: () => void;
  readonly #onError: (error: unknown) => void;

  constructor(hub: TurnHub, channel: RelayChannel, onError: (error: unknown) => void = () => {}) {
    this.#hub = hub;
    this.#channel = channel;
    this.#onError = onError;
    this.#stop = channel.subscribe((event) => {
      if (event.kind !== TURN_FOLLOW_EVENT || event.instanceId === channel.instanceId) return;
      const turnId = event.data?.turnId;
      const afterSeq = event.data?.afterSeq;
      if (typeof turnId !== 'string' || typeof afterSeq !== 'number' || !hub.has(turnId)) return;
      this.#relay(turnId, afterSeq);
    });
  }

  /** Stops answering follow requests (relays already running finish). */
  close(): void {
    this.#stop();
  }

  /**
   * The frames of `turnId` after `afterSeq` from whichever process streams it, as they come,
   * ending with the terminal frame (`ended`), or early (`ended: false`) when the turn's end must be
   * read from storage: the terminal frame was too large to relay, or nobody answered for 15 s.
   */
  async *follow(
    turnId: string,
    afterSeq: number,
    signal?: AbortSignal,
  ): AsyncGenerator<SeqFrame, RelayOutcome> {
    let lastSeq = afterSeq;
    const queue: SeqFrame[] = [];
    let end = false;
    let heard = Date.now();
    let wake: (() => void) | null = null;
    const stop = this.#channel.subscribe((event) => {
      if (event.kind !== TURN_FRAMES_EVENT || event.data?.turnId !== turnId) return;
      heard = Date.now();
      for (const frame of (event.data.frames as SeqFrame[] | undefined) ?? []) queue.push(frame);
      if (event.data.end === true) end = true;
      wake?.();
    });
    const ask = () =>
      this.#channel
        .publish({ kind: TURN_FOLLOW_EVENT, data: { turnId, afterSeq: lastSeq } })
        .catch(this.#onError);
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await ask();
      let asked = Date.now();
      for (;;) {
        while (queue.length > 0) {
          const frame = queue.shift() as SeqFrame;
          if (frame.seq <= lastSeq) continue;
          lastSeq = frame.seq;
          yield frame;
          if (TERMINAL_FRAME_TYPES.has(frame.type)) return { lastSeq, ended: true };
        }
        if (end || signal?.aborted || Date.now() - heard > SILENCE_MS) return { lastSeq, ended: false };
        // Until the first frames arrive the owner may not have the turn yet: ask again.
        if (lastSeq === afterSeq && Date.now() - asked >= ASK_AGAIN_MS) {
          await ask();
          asked = Date.now();
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ASK_AGAIN_MS);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = null;
      }
    } finally {
      stop();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Relays `turnId` from `afterSeq` on (one relay per turn; a later request from further back replays). */
  #relay(turnId: string, afterSeq: number): void {
    const running = this.#relaying.get(turnId);
    if (running) {
      // Followers dedupe by seq: replaying from further back is safe.
      if (afterSeq < running.sent) running.replayFrom = Math.min(running.replayFrom ?? afterSeq, afterSeq);
      return;
    }
    const state: RelayState = { sent: afterSeq, replayFrom: null };
    this.#relaying.set(turnId, state);
    void this.#pump(turnId, state).finally(() => {
      if (this.#relaying.get(turnId) === state) this.#relaying.delete(turnId);
    });
  }

  async #pump(turnId: string, state: RelayState): Promise<void> {
    let batch: SeqFrame[] = [];
    let bytes = 0;
    let timer: NodeJS.Timeout | null = null;
    const flush = (end: boolean): void => {
      if (timer) clearTimeout(timer);
      timer = null;
      if (batch.length === 0 && !end) return;
      const frames = batch;
      batch = [];
      bytes = 0;
      this.#channel
        .publish({ kind: TURN_FRAMES_EVENT, data: { turnId, frames, ...(end && { end: true }) } })
        .catch(this.#onError);
    };
    let from = state.sent;
    for (;;) {
      for await (const frame of this.#hub.follow(turnId, from)) {
        if (state.replayFrom !== null) break;
        const size = JSON.stringify(frame).length * 3;
        if (size > EVENT_BUDGET_BYTES) {
          // Too large for one event (a long stream.end): followers read the end from storage.
          flush(true);
          return;
        }
        if (bytes + size > EVENT_BUDGET_BYTES) flush(false);
        batch.push(frame);
        bytes += size;
        state.sent = frame.seq;
        if (TERMINAL_FRAME_TYPES.has(frame.type)) {
          flush(false);
          return;
        }
        timer ??= setTimeout(() => flush(false), FLUSH_MS);
      }
      if (state.replayFrom !== null) {
        from = state.replayFrom;
        state.replayFrom = null;
        continue;
      }
      // The hub no longer keeps the turn: followers read its end from storage.
      flush(true);
      return;
    }
  }
}
