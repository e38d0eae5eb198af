import type { EngineHooks } from './agent-types';
import { SerialQueue } from './turns/serial-queue';

/** What an `error` event (and the `onError` hook) carries. */
export interface AgentErrorEvent {
  error: unknown;
  /**
   * Where it happened: `turn`, `turn-lease` (a lease renewal or release failed, or the lease was
   * lost), `consolidate`, `integrate`, `afterTurn`, `hook:<name>`, `recycle`.
   */
  phase: string;
  sessionId?: string;
}

/** Listener of the agent's `error` event. */
export type AgentErrorListener = (event: AgentErrorEvent) => void;

/** Hooks other than `onError`, which the dispatcher calls itself when something fails. */
export type ObserverHookName = Exclude<keyof EngineHooks, 'onError'>;

/**
 * Fires hooks without awaiting them and reports failures as `error` events.
 *
 * A hook that throws or rejects never propagates: the failure goes to the `error` listeners and
 * to the `onError` hook (a failing `onError` is only emitted, never re-reported to itself).
 */
export class HookDispatcher {
  #hooks: Partial<EngineHooks>;
  #listeners = new Set<AgentErrorListener>();

  constructor(hooks: Partial<EngineHooks> = {}) {
    this.#hooks = hooks;
  }

  /** Calls hook `name` with `event`, if configured; never throws and never waits for it. */
  fire<TName extends ObserverHookName>(name: TName, event: Parameters<EngineHooks[TName]>[0]): void {
    const hook = this.#hooks[name] as ((event: unknown) => unknown) | undefined;
    if (!hook) return;
    const sessionId = sessionIdOf(event);
    this.#invoke(
      () => hook(event),
      (error) => this.report({ error, phase: `hook:${name}`, ...(sessionId ? { sessionId } : {}) }),
    );
  }

  /** Runs a fire-and-forget callback (e.g. `lifecycle.afterTurn`) with the same error handling as hooks. */
  fireCallback(phase: string, sessionId: string | undefined, fn: () => unknown): void {
    this.#invoke(fn, (error) => this.report({ error, phase, ...(sessionId ? { sessionId } : {}) }));
  }

  /** Emits `event` to the `error` listeners and to the `onError` hook. */
  report(event: AgentErrorEvent): void {
    this.emit(event);
    this.notifyOnError(event);
  }

  /** Passes `event` to the `error` listeners only (a failing listener is ignored). */
  emit(event: AgentErrorEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's own failure has nowhere left to go; it must not break the caller.
      }
    }
  }

  /** Calls the `onError` hook only, for failures whose caller also receives the error. */
  notifyOnError(event: AgentErrorEvent): void {
    const onError = this.#hooks.onError;
    if (!onError) return;
    this.#invoke(
      () => onError(event),
      (error) =>
        this.emit({
          error,
          phase: 'hook:onError',
          ...(event.sessionId ? { sessionId: event.sessionId } : {}),
        }),
    );
  }

  /** Adds an `error` listener. */
  on(listener: AgentErrorListener): void {
    this.#listeners.add(listener);
  }

  /** Removes an `error` listener. */
  off(listener: AgentErrorListener): void {
    this.#listeners.delete(listener);
  }

  #invoke(fn: () => unknown, onFailure: (error: unknown) => void): void {
    try {
      // Hooks run outside any held queue key, so agent calls they make are queued normally.
      const result = SerialQueue.detached(fn);
      if (isPromiseLike(result)) result.then(undefined, onFailure);
    } catch (error) {
      onFailure(error);
    }
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function sessionIdOf(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const record = event as { sessionId?: unknown; parentId?: unknown };
  if (typeof record.sessionId === 'string') return record.sessionId;
  if (typeof record.parentId === 'string') return record.parentId;
  return undefined;
}
