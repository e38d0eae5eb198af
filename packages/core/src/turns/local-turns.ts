import type { EngineTurnResult } from '../types';

/** A turn submitted to this agent and not settled yet. */
export interface LocalTurn {
  turnId: string;
  sessionId: string;
  requestHash: string;
  /** `queued` while it waits in the session's queue or for another process's lease. */
  status: 'queued' | 'running';
  /** Aborts the turn: its LLM call, its running tools, its wait. */
  controller: AbortController;
  /** Set by a cancel, so the caller gets `TURN_CANCELLED` rather than `ABORTED`. */
  cancelled: boolean;
  /** What every submission of this turn id gets. */
  promise: Promise<EngineTurnResult>;
}

/**
 * The turns this agent runs or waits to run, by turn id: concurrent submissions of one id share
 * one promise, a cancel finds the controller to abort, a status read sees `queued`.
 */
export class LocalTurns {
  readonly #byId = new Map<string, LocalTurn>();
  /** The turn running on each session here (what `SESSION_BUSY` names under `reject`). */
  readonly #running = new Map<string, string>();

  get(turnId: string): LocalTurn | undefined {
    return this.#byId.get(turnId);
  }

  /** Registers a turn until its promise settles. */
  add(turn: LocalTurn): void {
    this.#byId.set(turn.turnId, turn);
    const forget = () => {
      if (this.#byId.get(turn.turnId) === turn) this.#byId.delete(turn.turnId);
    };
    turn.promise.then(forget, forget);
  }

  /**
   * Marks a turn as the one this agent runs on its session (until `finished`); its status turns
   * `running` once it holds the session (`claimed`), not while it waits for another process.
   */
  started(turn: LocalTurn): void {
    this.#running.set(turn.sessionId, turn.turnId);
  }

  finished(turn: LocalTurn): void {
    if (this.#running.get(turn.sessionId) === turn.turnId) this.#running.delete(turn.sessionId);
  }

  /** The id of the turn running on `sessionId` in this agent, if any. */
  runningOn(sessionId: string): string | undefined {
    return this.#running.get(sessionId);
  }

  /** Aborts a local turn as cancelled; false when no such turn runs or waits here. */
  cancel(turnId: string, reason: Error): boolean {
    const turn = this.#byId.get(turnId);
    if (!turn) return false;
    turn.cancelled = true;
    turn.controller.abort(reason);
    return true;
  }
}
