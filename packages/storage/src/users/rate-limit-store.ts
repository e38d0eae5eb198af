/** A key's own limits; `null` means the server's default, `0` no limit for this key. */
export interface KeyLimits {
  /** The user whose key is limited (a user holds at most one active key). */
  keyId: string;
  turnsPerMinute: number | null;
  concurrentStreams: number | null;
}

/** A change of a key's limits: an absent field is kept, `null` goes back to the server's default. */
export interface KeyLimitsUpdate {
  turnsPerMinute?: number | null;
  concurrentStreams?: number | null;
}

/** One key's use by one process in one window: turns admitted, streams open now. */
export interface KeyUsage {
  keyId: string;
  turns: number;
  streams: number;
}

/** What a process writes at each sync, and which others' rows it reads back. */
export interface UsageSync {
  /** The writing process (a random id per server). */
  processId: string;
  /** Start of the current one-minute window, in ms since the epoch. */
  windowStartMs: number;
  /** This process's use of each key it counts in the window (written as is, replacing the last sync). */
  usage: readonly KeyUsage[];
  /** Others' open streams count only when their row was written this recently (a dead process stops counting). */
  streamsFreshMs: number;
}

/**
 * Where per-key limits and the processes' use of them are kept, so processes sharing a database
 * enforce one budget. Nothing here is on a turn's path: a background sync calls it.
 */
export interface RateLimitStore {
  /** The key's limits; `null` when the user does not exist. */
  getKeyLimits(keyId: string): Promise<KeyLimits | null>;
  /** Changes the key's limits and returns them; `null` when the user does not exist. */
  setKeyLimits(keyId: string, update: KeyLimitsUpdate): Promise<KeyLimits | null>;
  /** Every key with at least one limit of its own (what a sync refreshes). */
  listKeyLimits(): Promise<KeyLimits[]>;
  /**
   * Writes this process's use of the window and returns the other processes' totals per key for
   * the same window (keys with no use elsewhere are absent).
   */
  syncUsage(sync: UsageSync): Promise<KeyUsage[]>;
  /** Deletes usage rows of windows that started before `windowStartMs`; returns how many. */
  deleteUsageBefore(windowStartMs: number): Promise<number>;
}
