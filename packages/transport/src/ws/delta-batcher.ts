import { WebSocket } from 'ws';

/** Above this many unsent bytes, stream deltas are coalesced until the peer catches up. */
export const STREAM_HIGH_WATER_BYTES = 1024 * 1024;

/**
 * Gathers a streamed turn's deltas into frames. The first delta of a turn leaves at once (time to
 * first token is what a user feels). Later deltas that arrive in the same event-loop turn (one
 * network read of the model's stream holds several) leave as one frame once that turn's work is
 * done: the same text with fewer frames and socket writes. Backpressure: while the peer is slow,
 * deltas are merged into fewer, larger frames.
 */
export class DeltaBatcher {
  readonly #socket: WebSocket;
  readonly #emit: (chunk: string) => void;
  #pending = '';
  /** The scheduled send of the deltas gathered in this event-loop turn. */
  #scheduled: NodeJS.Immediate | null = null;
  #firstSent = false;

  /** `emit` sends one `stream.delta` frame of `chunk`. */
  constructor(socket: WebSocket, emit: (chunk: string) => void) {
    this.#socket = socket;
    this.#emit = emit;
  }

  /** A new turn: its first delta leaves at once. */
  startTurn(): void {
    this.#firstSent = false;
  }

  push(chunk: string): void {
    this.#pending += chunk;
    if (this.#scheduled !== null) return;
    if (this.#socket.readyState === WebSocket.OPEN && this.#socket.bufferedAmount > STREAM_HIGH_WATER_BYTES) {
      return;
    }
    if (!this.#firstSent) {
      this.#firstSent = true;
      this.flush();
      return;
    }
    this.#scheduled = setImmediate(() => {
      this.#scheduled = null;
      this.flush();
    });
  }

  /** Sends what is gathered now (before a tool frame or the end, so the order holds). */
  flush(): void {
    this.#cancelScheduled();
    if (this.#pending.length === 0) return;
    const chunk = this.#pending;
    this.#pending = '';
    this.#emit(chunk);
  }

  /** Drops what is gathered (a dropped peer). */
  discard(): void {
    this.#cancelScheduled();
    this.#pending = '';
  }

  #cancelScheduled(): void {
    if (this.#scheduled !== null) clearImmediate(this.#scheduled);
    this.#scheduled = null;
  }
}
