/** A cached runtime and who holds it. */
interface RuntimeEntry<T> {
  value: Promise<T>;
  holders: Set<string>;
  timer: ReturnType<typeof setTimeout> | null;
}

/** Options of {@link RuntimeManager}. */
export interface RuntimeManagerOptions<T> {
  /** Builds the runtime of `id`; a rejection leaves nothing cached and no holder. */
  create(id: string): Promise<T>;
  /** How long a runtime without holders stays cached (0: dropped at once). */
  idleTtlMs?: number;
}

/**
 * Caches one runtime per id while it has holders.
 *
 * Concurrent acquirers of one id share one creation. When the last holder releases, the runtime
 * is dropped after `idleTtlMs` (at once when 0), unless it is acquired again before that.
 */
export class RuntimeManager<T> {
  #entries = new Map<string, RuntimeEntry<T>>();
  #create: (id: string) => Promise<T>;
  #idleTtlMs: number;

  constructor(options: RuntimeManagerOptions<T>) {
    this.#create = options.create;
    this.#idleTtlMs = Math.max(0, options.idleTtlMs ?? 0);
  }

  /** Adds `holderId` to `id`'s holders and resolves to its runtime (created if needed). */
  async acquire(id: string, holderId: string): Promise<T> {
    let entry = this.#entries.get(id);
    if (!entry) {
      const created: RuntimeEntry<T> = { value: this.#create(id), holders: new Set(), timer: null };
      this.#entries.set(id, created);
      created.value.catch(() => {
        if (this.#entries.get(id) === created) this.#entries.delete(id);
      });
      entry = created;
    }
    if (entry.timer) {
      clearTimeout(entry.timer);
      entry.timer = null;
    }
    entry.holders.add(holderId);
    try {
      return await entry.value;
    } catch (error) {
      entry.holders.delete(holderId);
      throw error;
    }
  }

  /** Removes `holderId`; without holders left the runtime is recycled. Unknown holders are ignored. */
  release(id: string, holderId: string): void {
    const entry = this.#entries.get(id);
    if (!entry?.holders.delete(holderId) || entry.holders.size > 0) return;
    if (this.#idleTtlMs === 0) {
      this.#entries.delete(id);
      return;
    }
    entry.timer = setTimeout(() => {
      if (entry.holders.size === 0 && this.#entries.get(id) === entry) this.#entries.delete(id);
    }, this.#idleTtlMs);
    // A pending recycle must not keep the process alive.
    entry.timer.unref?.();
  }

  /** True when a runtime for `id` is cached (or being created). */
  /**
   * Caches `value` as the runtime of `id` when none exists (no creation call), with no holder:
   * it is recycled after the idle TTL like any released runtime. Returns false when one exists.
   */
  adopt(id: string, value: T): boolean {
    if (this.#entries.has(id)) return false;
    const entry: RuntimeEntry<T> = { value: Promise.resolve(value), holders: new Set(), timer: null };
    this.#entries.set(id, entry);
    const probe = `adopt:${id}`;
    entry.holders.add(probe);
    this.release(id, probe);
    return true;
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** Number of holders of `id`. */
  holderCount(id: string): number {
    return this.#entries.get(id)?.holders.size ?? 0;
  }

  /** Number of holders over all ids. */
  get totalHolders(): number {
    let total = 0;
    for (const entry of this.#entries.values()) total += entry.holders.size;
    return total;
  }

  /** Drops every runtime and cancels pending recycles. */
  clear(): void {
    for (const entry of this.#entries.values()) if (entry.timer) clearTimeout(entry.timer);
    this.#entries.clear();
  }
}
