import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Keys whose queue slot the current async call chain already holds. Only code that runs on
 * behalf of a queued task and may call back into the agent (a tool) is marked, so that a tool
 * acting on its own session runs at once instead of waiting for the turn that waits for it.
 */
const HELD_KEYS = new AsyncLocalStorage<ReadonlySet<string>>();

/**
 * Runs async tasks one at a time per key, and tasks of different keys in parallel.
 *
 * A failed task does not block the next one. A key's entry is removed as soon as its last task
 * settles, so the queue holds nothing for idle keys. A task started from code marked with
 * {@link SerialQueue.runHolding} for the same key runs immediately (re-entrancy), because
 * queueing it would deadlock.
 */
export class SerialQueue {
  #tails = new Map<string, Promise<void>>();
  // Tasks queued or running per key, so callers can bound a key's queue.
  #depths = new Map<string, number>();

  /** Queues `task` behind every task already queued for `key`; resolves or rejects as `task` does. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    if (HELD_KEYS.getStore()?.has(key)) return task();
    const previous = this.#tails.get(key) ?? Promise.resolve();
    this.#depths.set(key, (this.#depths.get(key) ?? 0) + 1);
    // Tails never reject: a failure stays with its own caller and does not block the queue.
    const result = previous.then(task);
    const tail = result.then(noop, noop).then(() => {
      const depth = (this.#depths.get(key) ?? 1) - 1;
      if (depth <= 0) this.#depths.delete(key);
      else this.#depths.set(key, depth);
    });
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Number of keys with queued or running tasks. */
  get size(): number {
    return this.#tails.size;
  }

  /** Tasks queued or running for `key`. */
  depth(key: string): number {
    return this.#depths.get(key) ?? 0;
  }

  /** True when no task is queued or running for `key`. */
  isIdle(key: string): boolean {
    return !this.#tails.has(key);
  }

  /**
   * Runs `fn` marked as holding `key`: tasks for `key` that `fn` starts (directly or through
   * async work it awaits) skip the queue.
   */
  static runHolding<T>(key: string, fn: () => T): T {
    const held = HELD_KEYS.getStore();
    return HELD_KEYS.run(new Set([...(held ?? []), key]), fn);
  }

  /** True when the calling async context holds `key` (it runs inside `runHolding(key, …)`). */
  static isHeld(key: string): boolean {
    return HELD_KEYS.getStore()?.has(key) ?? false;
  }

  /** Runs `fn` outside any held key, so work it starts in the background is queued normally. */
  static detached<T>(fn: () => T): T {
    return HELD_KEYS.exit(fn);
  }
}

function noop(): void {}
