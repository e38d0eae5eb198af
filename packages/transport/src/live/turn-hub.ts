// The frames of the turns streamed by this process, kept in memory (never one SQL statement per
// delta) so that a client that lost its connection can resume: replay what it missed, then follow
// the live frames, then the end. Bounded in turns, frames per turn and time after the end.

/** A frame of a streamed turn: every one carries its turn id and its number. */
export interface SeqFrame {
  type: string;
  turnId: string;
  seq: number;
  [field: string]: unknown;
}

/** Frame types that end a turn's stream. */
export const TERMINAL_FRAME_TYPES: ReadonlySet<string> = new Set(['stream.end', 'turn.cancelled', 'error']);

/** How long a finished turn's frames stay available for a resume. */
export const DEFAULT_TURN_FRAMES_TTL_MS = 2 * 60_000;
/** Turns tracked at once; the oldest finished ones go first. */
export const DEFAULT_MAX_TRACKED_TURNS = 1_000;
/** Frames kept per turn; a resume from before the oldest kept frame starts at it. */
export const DEFAULT_MAX_FRAMES_PER_TURN = 10_000;

interface TrackedTurn {
  frames: SeqFrame[];
  finished: boolean;
  wakers: Set<() => void>;
  timer?: NodeJS.Timeout;
}

/** Options of {@link TurnHub}. */
export interface TurnHubOptions {
  ttlMs?: number;
  maxTurns?: number;
  maxFramesPerTurn?: number;
}

/** The frames of this process's streamed turns, for resumes (WebSocket `session.resume`, SSE `Last-Event-ID`). */
export class TurnHub {
  readonly #turns = new Map<string, TrackedTurn>();
  readonly #ttlMs: number;
  readonly #maxTurns: number;
  readonly #maxFrames: number;

  constructor(options: TurnHubOptions = {}) {
    this.#ttlMs = options.ttlMs ?? DEFAULT_TURN_FRAMES_TTL_MS;
    this.#maxTurns = options.maxTurns ?? DEFAULT_MAX_TRACKED_TURNS;
    this.#maxFrames = options.maxFramesPerTurn ?? DEFAULT_MAX_FRAMES_PER_TURN;
  }

  /** True while the frames of `turnId` are kept here. */
  has(turnId: string): boolean {
    return this.#turns.has(turnId);
  }

  /** Records one frame of a streamed turn (in seq order); a terminal frame finishes the turn. */
  record(frame: SeqFrame): void {
    let turn = this.#turns.get(frame.turnId);
    if (!turn) {
      turn = { frames: [], finished: false, wakers: new Set() };
      this.#turns.set(frame.turnId, turn);
      this.#evictOverflow();
    }
    if (turn.finished) return;
    turn.frames.push(frame);
    if (turn.frames.length > this.#maxFrames) turn.frames.shift();
    if (TERMINAL_FRAME_TYPES.has(frame.type)) {
      turn.finished = true;
      turn.timer = setTimeout(() => this.#turns.delete(frame.turnId), this.#ttlMs);
      turn.timer.unref();
    }
    for (const wake of [...turn.wakers]) wake();
  }

  /**
   * The frames of `turnId` after `afterSeq`: what is kept, then the live ones as they come, ending
   * with the terminal frame. Ends at once (yielding nothing) when the turn is not kept here.
   */
  async *follow(turnId: string, afterSeq: number, signal?: AbortSignal): AsyncGenerator<SeqFrame> {
    let next = afterSeq + 1;
    for (;;) {
      const turn = this.#turns.get(turnId);
      if (!turn || signal?.aborted) return;
      for (const frame of turn.frames) {
        if (frame.seq < next) continue;
        next = frame.seq + 1;
        yield frame;
        if (TERMINAL_FRAME_TYPES.has(frame.type)) return;
      }
      if (turn.finished) return;
      await new Promise<void>((resolve) => {
        const wake = () => {
          turn.wakers.delete(wake);
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        turn.wakers.add(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  #evictOverflow(): void {
    if (this.#turns.size <= this.#maxTurns) return;
    for (const [turnId, turn] of this.#turns) {
      if (this.#turns.size <= this.#maxTurns) return;
      if (!turn.finished) continue;
      clearTimeout(turn.timer);
      this.#turns.delete(turnId);
    }
  }
}
