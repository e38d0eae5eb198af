import type { IntegrateResult } from '@stello-ai/session';
import type { AgentErrorEvent } from '../hooks';

/** Completed turns between automatic consolidations when the config does not say. */
export const DEFAULT_CONSOLIDATE_EVERY_N_TURNS = 6;

/** Options of {@link MemoryScheduler}. */
export interface MemorySchedulerOptions {
  /**
   * Consolidates one session; resolves to the new memory, or `null` when there was nothing to
   * do. `force` is true when an explicit request is part of the run (skip no shortcut).
   */
  consolidate(sessionId: string, force: boolean): Promise<string | null>;
  /** Integrates the root; resolves to the result, or `null` when there was nothing to do. */
  integrate(force: boolean): Promise<IntegrateResult | null>;
  /** Receives failures of background work (explicit calls reject instead). */
  report(event: AgentErrorEvent): void;
  /** Consolidate after every N completed turns (0 disables; default 6). */
  consolidateEveryNTurns?: number;
  /** Consolidate when a client leaves a session (default true). */
  consolidateOnLeave?: boolean;
  /** Integrate once consolidations have settled (default true). */
  integrateAfterConsolidate?: boolean;
}

/**
 * Schedules memory work in the background: consolidation every N turns and on leave,
 * integration after consolidations settle, and the explicit calls.
 *
 * Work is coalesced per target: never two consolidations of one session at once, never two
 * integrations at once. A request that arrives while its target runs marks it dirty, and it runs
 * once more afterwards (however many requests arrived). Background failures are reported, never
 * thrown and never lost.
 */
export class MemoryScheduler {
  #options: MemorySchedulerOptions;
  #consolidations = new CoalescingRunner<string | null>();
  #integrations = new CoalescingRunner<IntegrateResult | null>();
  #pending = new Set<Promise<void>>();
  /** Targets with an explicit request waiting for their next run. */
  #forced = new Set<string>();
  #consolidatedSinceIntegration = false;
  #closed = false;

  constructor(options: MemorySchedulerOptions) {
    this.#options = options;
  }

  /** Consolidate-every-N value in force (0: disabled). */
  get everyNTurns(): number {
    return Math.max(0, Math.floor(this.#options.consolidateEveryNTurns ?? DEFAULT_CONSOLIDATE_EVERY_N_TURNS));
  }

  /** Called after a turn committed; schedules a consolidation when `turnCount` is a multiple of N. */
  afterTurn(sessionId: string, turnCount: number): void {
    const every = this.everyNTurns;
    if (every > 0 && turnCount > 0 && turnCount % every === 0) this.requestConsolidation(sessionId);
  }

  /** Called when a client leaves a session; schedules a consolidation unless disabled. */
  onLeave(sessionId: string): void {
    if (this.#options.consolidateOnLeave ?? true) this.requestConsolidation(sessionId);
  }

  /** Schedules a consolidation in the background. */
  requestConsolidation(sessionId: string): void {
    if (this.#closed) return;
    this.#track(
      this.consolidate(sessionId).then(
        () => undefined,
        (error: unknown) => this.#options.report({ error, phase: 'consolidate', sessionId }),
      ),
    );
  }

  /** Schedules an integration in the background. */
  requestIntegration(): void {
    if (this.#closed) return;
    this.#track(
      this.integrate().then(
        () => undefined,
        (error: unknown) => this.#options.report({ error, phase: 'integrate' }),
      ),
    );
  }

  /**
   * Consolidates `sessionId` (after a run in progress, if any); resolves to the new memory.
   * `force` marks an explicit request.
   */
  consolidate(sessionId: string, options: { force?: boolean } = {}): Promise<string | null> {
    if (options.force) this.#forced.add(`consolidate:${sessionId}`);
    const run = this.#consolidations.run(sessionId, async () => {
      const force = this.#forced.delete(`consolidate:${sessionId}`);
      const memory = await this.#options.consolidate(sessionId, force);
      if (memory !== null) this.#consolidatedSinceIntegration = true;
      return memory;
    });
    // Whether it succeeded or not, the end of the last running consolidation may call for an integration.
    this.#track(run.then(settledCheck, settledCheck).then(() => this.#afterConsolidation()));
    return run;
  }

  /** Integrates (after a run in progress, if any). `force` marks an explicit request. */
  integrate(options: { force?: boolean } = {}): Promise<IntegrateResult | null> {
    if (options.force) this.#forced.add('integrate');
    // Reset now, not when the run starts: the run this call joins reads every memory written so far.
    this.#consolidatedSinceIntegration = false;
    const run = this.#integrations.run('root', () =>
      this.#options.integrate(this.#forced.delete('integrate')),
    );
    this.#track(run.then(settledCheck, settledCheck));
    return run;
  }

  /** True while background or explicit memory work is queued or running. */
  get busy(): boolean {
    return this.#pending.size > 0;
  }

  /** Resolves when all memory work, including work it scheduled in turn, has settled. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Stops accepting background requests (explicit calls still run). */
  close(): void {
    this.#closed = true;
  }

  #afterConsolidation(): void {
    if (this.#consolidations.activeCount > 0 || !this.#consolidatedSinceIntegration) return;
    if (this.#options.integrateAfterConsolidate ?? true) this.requestIntegration();
  }

  #track(promise: Promise<void>): void {
    this.#pending.add(promise);
    void promise.finally(() => this.#pending.delete(promise));
  }
}

function settledCheck(): void {}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

interface RunnerState<T> {
  fn: () => Promise<T>;
  next: Deferred<T> | null;
}

/** Runs at most one task per key; requests during a run share one rerun after it. */
class CoalescingRunner<T> {
  #states = new Map<string, RunnerState<T>>();

  /** Keys with a run in progress. */
  get activeCount(): number {
    return this.#states.size;
  }

  /** Resolves with a run of `fn` that starts no earlier than now. */
  run(key: string, fn: () => Promise<T>): Promise<T> {
    const state = this.#states.get(key);
    if (!state) {
      const fresh: RunnerState<T> = { fn, next: null };
      this.#states.set(key, fresh);
      return this.#start(key, fresh);
    }
    state.fn = fn;
    state.next ??= deferred<T>();
    return state.next.promise;
  }

  #start(key: string, state: RunnerState<T>): Promise<T> {
    const running = Promise.resolve().then(state.fn);
    const after = (): void => {
      const next = state.next;
      if (!next) {
        this.#states.delete(key);
        return;
      }
      state.next = null;
      this.#start(key, state).then(next.resolve, next.reject);
    };
    running.then(after, after);
    return running;
  }
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
