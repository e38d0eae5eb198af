import type { Message } from '@stello-ai/session';

/**
 * The history window of one session as this process last saw it, at one records revision.
 * Immutable: an update replaces the entry, so a read that captured it keeps a consistent copy.
 */
export interface HistoryEntry {
  /** `sessions.records_rev` the window was read (or written) at. */
  readonly rev: number;
  /** The window size it was read for; a read for another size ignores the entry. */
  readonly maxRecords: number;
  /** The newest `maxRecords` records, oldest first (frozen). */
  readonly records: readonly Message[];
  readonly hasOlderRecords: boolean;
}

/**
 * A bounded, least-recently-used map of history windows by session id, so a turn on a session
 * this process served last reads none of its records again: the turn's read compares the
 * revision and sends the window only when it changed.
 */
export class HistoryCache {
  readonly #entries = new Map<string, HistoryEntry>();
  readonly #maxSessions: number;

  constructor(maxSessions: number) {
    this.#maxSessions = maxSessions;
  }

  /** The entry of `sessionId` for a window of `maxRecords`, marked as most recently used. */
  get(sessionId: string, maxRecords: number): HistoryEntry | undefined {
    const entry = this.#entries.get(sessionId);
    if (entry === undefined || entry.maxRecords !== maxRecords) return undefined;
    this.#entries.delete(sessionId);
    this.#entries.set(sessionId, entry);
    return entry;
  }

  /** Stores the window read at `rev`. */
  set(
    sessionId: string,
    rev: number,
    maxRecords: number,
    records: Message[],
    hasOlderRecords: boolean,
  ): void {
    for (const record of records) freezeMessage(record);
    this.#put(sessionId, { rev, maxRecords, records: Object.freeze(records), hasOlderRecords });
  }

  /**
   * Moves the entry to `newRev` by appending `written` when the entry is exactly the revision
   * before it (nothing else touched the records since); drops it otherwise.
   */
  append(sessionId: string, newRev: number, written: Message[] | null): void {
    const entry = this.#entries.get(sessionId);
    if (entry === undefined) return;
    if (written === null || entry.rev !== newRev - 1) {
      this.#entries.delete(sessionId);
      return;
    }
    for (const record of written) freezeMessage(record);
    const all = [...entry.records, ...written];
    const overflow = all.length - entry.maxRecords;
    const records = overflow > 0 ? all.slice(overflow) : all;
    this.#put(sessionId, {
      rev: newRev,
      maxRecords: entry.maxRecords,
      records: Object.freeze(records),
      hasOlderRecords: entry.hasOlderRecords || overflow > 0,
    });
  }

  delete(sessionId: string): void {
    this.#entries.delete(sessionId);
  }

  get size(): number {
    return this.#entries.size;
  }

  #put(sessionId: string, entry: HistoryEntry): void {
    this.#entries.delete(sessionId);
    this.#entries.set(sessionId, entry);
    if (this.#entries.size > this.#maxSessions) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }
}

/** Cached messages are shared by every turn that reads them: nobody may change one in place. */
function freezeMessage(message: Message): void {
  if (message.toolCalls) deepFreeze(message.toolCalls);
  if (message.metadata) deepFreeze(message.metadata);
  Object.freeze(message);
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  for (const inner of Object.values(value)) deepFreeze(inner);
  Object.freeze(value);
}
