import type {
  ChildL2Summary,
  ListRecordsOptions,
  Message,
  SessionFilter,
  SessionMeta,
  SlotKey,
} from './types';

/**
 * Everything one turn needs to build its prompt, read in one go (one SQL statement in the
 * PostgreSQL implementation), so a turn costs one read and one write whatever the history length.
 */
export interface TurnContextData {
  meta: SessionMeta;
  /** Completed user turns so far; the optimistic guard of `commitTurn`. */
  turnCount: number;
  systemPrompt: string | null;
  insight: string | null;
  /** L2 for a standard session, the synthesis for the main session. */
  memory: string | null;
  /** The newest `maxRecords` records, oldest first. */
  records: Message[];
  /** True when older records exist beyond `records`. */
  hasOlderRecords: boolean;
  /** Set when the claimed turn id had already ended: its stored outcome (no lease was taken). */
  finishedTurn?: StoredTurn;
}

/**
 * A claim on a session's turn: while an owner holds it, no other owner can begin a turn there.
 * It lapses `ttlMs` after it was taken or last renewed, so a crashed owner blocks nobody for long.
 */
export interface TurnLeaseClaim {
  /** Who runs the turn; unique per turn (e.g. `<instance id>:<turn number>`). */
  owner: string;
  /** Lifetime of the claim, in milliseconds (a positive integer). */
  ttlMs: number;
}

/** Where a turn of the ledger stands. */
export type TurnStatus = 'queued' | 'running' | 'completed' | 'cancelled' | 'failed';

/** What a turn does when its session runs another turn: wait for it, or fail at once with `SESSION_BUSY`. */
export type TurnConcurrency = 'enqueue' | 'reject';

/** The ledger entry a turn claims with its context read (see `LoadTurnContextOptions.turn`). */
export interface TurnClaim {
  /** The turn's id (a UUID), unique in the space. */
  turnId: string;
  /** Hash of what the turn was asked: a submission of the same id must carry the same hash. */
  requestHash: string;
  /** `enqueue` records the turn as `queued` while it waits; `reject` records nothing. */
  concurrency: TurnConcurrency;
}

/** A turn as the ledger knows it. */
export interface StoredTurn {
  turnId: string;
  sessionId: string;
  status: TurnStatus;
  /** What the completed turn returned (JSON). */
  result?: unknown;
  /** Why a failed or cancelled turn ended. */
  error?: { code: string; message: string };
  lastSeq?: number;
}

/** Options of `SessionStorage.loadTurnContext`. */
export interface LoadTurnContextOptions {
  /** Newest records to read for the history window (a non-negative integer). */
  maxRecords: number;
  /**
   * Takes the session's turn lease in the same statement as the read: when it is free, lapsed or
   * already held by `lease.owner`. When another owner holds it, `loadTurnContext` throws
   * `SESSION_BUSY` (with `details.retryAfterMs`, the time left on that lease) and reads nothing.
   * An archived session is returned as it is, without taking the lease.
   */
  lease?: TurnLeaseClaim;
  /**
   * Claims the turn's ledger entry in the same statement (needs `lease`): `running` when the lease
   * is taken, `queued` while it waits (`enqueue`). A turn id that already ended is returned as
   * `TurnContextData.finishedTurn` (nothing else read, no lease taken); the same id with another
   * request or session throws `TURN_ID_CONFLICT`; the same id still running elsewhere throws
   * `SESSION_BUSY` with `details.sameTurn`. `SESSION_BUSY` names the running turn in `details.turnId`.
   */
  turn?: TurnClaim;
}

/** Everything one turn produced, written atomically by `commitTurn`. */
export interface TurnCommit {
  /** The user record, then assistant and tool records, in order. */
  records: Message[];
  /** When set, delete the insight slot if it still holds exactly this text (it was shown to the model). */
  consumeInsight?: string | null;
  /** Count a completed user turn (`turnCount + 1`) and move `lastActiveAt`. */
  countTurn: boolean;
  /**
   * Optimistic guard across processes: when set and the stored turn count differs, nothing is
   * written and `commitTurn` throws a `SessionError` with code `TURN_CONFLICT`.
   */
  expectedTurnCount?: number;
  /** Clears the turn lease in the same statement when this owner still holds it. */
  releaseLease?: string;
  /**
   * Completes the turn's ledger entry in the same statement, fenced: nothing is written unless the
   * entry is still `running`, no cancel was requested and `releaseLease` still holds the lease
   * (`TURN_CANCELLED`, or `TURN_CONFLICT` when the lease was lost).
   */
  turn?: { turnId: string; result: unknown; lastSeq?: number };
}

export interface TurnCommitResult {
  turnCount: number;
  lastActiveAt: string;
}

/** What `createChild` writes, atomically, for a fork. */
export interface ChildSessionSpec {
  label: string;
  scope?: string | null;
  tags?: string[];
  metadata?: Record<string, unknown>;
  /** The session the fork was called on (usually the parent). */
  sourceSessionId?: string | null;
  /** `undefined` copies the parent's system prompt; `null` leaves the child without one. */
  systemPrompt?: string | null;
  /** Records to seed the child with (inherited context, an opening message). */
  records?: Message[];
}

/** The stored row of a session, with its place in the tree. */
export interface SessionRow extends SessionMeta {
  parentId: string | null;
  depth: number;
  index: number;
  scope: string | null;
  turnCount: number;
  lastActiveAt: string;
  sourceSessionId: string | null;
}

/**
 * Persistence of sessions, records and slots for one space. Every method is scoped to the space
 * the implementation was created for: an id of another space behaves as missing.
 */
export interface SessionStorage {
  getSession(id: string): Promise<SessionMeta | null>;
  /** Updates an existing session's meta; creates the root when `meta.role === 'main'` and none exists. */
  putSession(meta: SessionMeta): Promise<void>;
  appendRecord(sessionId: string, record: Message): Promise<void>;
  listRecords(sessionId: string, options?: ListRecordsOptions): Promise<Message[]>;
  /** Deletes everything but the newest `keepRecent` records. */
  trimRecords(sessionId: string, keepRecent: number): Promise<void>;

  getSystemPrompt(sessionId: string): Promise<string | null>;
  putSystemPrompt(sessionId: string, content: string): Promise<void>;
  getInsight(sessionId: string): Promise<string | null>;
  putInsight(sessionId: string, content: string): Promise<void>;
  clearInsight(sessionId: string): Promise<void>;
  getMemory(sessionId: string): Promise<string | null>;
  putMemory(sessionId: string, content: string): Promise<void>;
  /**
   * Writes a consolidated memory together with the turn count it covers, so the mark survives the
   * agent (a rebuilt agent does not consolidate an unchanged session again). Optional: without it
   * the mark lives only in the agent. Throws `SESSION_NOT_FOUND`, and `SESSION_ARCHIVED` (writing
   * nothing) for an archived session, checked in the same write.
   */
  putConsolidatedMemory?(sessionId: string, content: string, turnCount: number): Promise<void>;
  /** The turn count covered by the last consolidated memory; `null` before the first. */
  getConsolidatedTurnCount?(sessionId: string): Promise<number | null>;
  /** Any named slot; a missing slot reads as `null`. */
  getSlot(sessionId: string, key: SlotKey): Promise<string | null>;
  putSlot(sessionId: string, key: SlotKey, content: string): Promise<void>;

  /**
   * Reads the prompt material of a turn, and with `options.lease` takes the session's turn lease
   * atomically with the read; `null` when the session does not exist in this space. Throws
   * `SESSION_BUSY` when another owner holds the lease.
   */
  loadTurnContext(sessionId: string, options: LoadTurnContextOptions): Promise<TurnContextData | null>;
  /** Writes a turn atomically. Throws `SESSION_NOT_FOUND`, `SESSION_ARCHIVED` or `TURN_CONFLICT`. */
  commitTurn(sessionId: string, commit: TurnCommit): Promise<TurnCommitResult>;
  /**
   * Extends the turn lease to `ttlMs` from now when `owner` still holds it (even lapsed, as long
   * as nobody took it over). Resolves `false`, writing nothing, when `owner` no longer holds it.
   */
  renewTurnLease(sessionId: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Clears the turn lease when `owner` holds it; does nothing otherwise (or for an unknown session). */
  releaseTurnLease(sessionId: string, owner: string): Promise<void>;
  /**
   * The ledger entry of a turn of the session; `null` when unknown. A `running`/`queued` turn whose
   * process died reads as `failed`. Storages without a ledger leave these four methods out.
   */
  getTurn?(sessionId: string, turnId: string): Promise<StoredTurn | null>;
  /** Marks a `queued`/`running` turn `failed` or `cancelled` (one write); nothing else is touched. */
  finishTurn?(
    sessionId: string,
    turnId: string,
    status: 'failed' | 'cancelled',
    error: { code: string; message: string },
  ): Promise<void>;
  /**
   * Asks for a turn's cancel (one write, with a `turn.cancel` control event when the storage has a
   * control channel): a queued turn ends `cancelled`, a running one is fenced out of its commit,
   * an unknown id gets a `cancelled` tombstone. The turn's status after the request; `null` for an
   * unknown session.
   */
  requestTurnCancel?(sessionId: string, turnId: string): Promise<TurnStatus | null>;
  /**
   * Creates a child under `parentId` atomically: depth = parent depth + 1, index = next free
   * sibling index (safe under concurrent calls), the system prompt and seed records.
   * Throws `SESSION_NOT_FOUND` (parent missing) or `SESSION_ARCHIVED` (parent archived).
   */
  createChild(parentId: string, spec: ChildSessionSpec): Promise<SessionRow>;
  /** The full stored row, tree fields included; `null` when missing. */
  getSessionRow(id: string): Promise<SessionRow | null>;

  /** Runs `fn` atomically; `fn` receives a storage bound to the transaction. */
  transaction<T>(fn: (tx: SessionStorage) => Promise<T>): Promise<T>;
}

/** Storage of the main (root) session: integration inputs, the session list and space-wide data. */
export interface MainStorage extends SessionStorage {
  /** Active standard sessions that have an L2, ordered by depth then index. */
  getAllSessionL2s(): Promise<ChildL2Summary[]>;
  listSessions(filter?: SessionFilter): Promise<SessionMeta[]>;
  /** Renames a node or moves it under another parent (depth of the subtree is recomputed). */
  putNode(node: { id: string; parentId: string | null; label: string }): Promise<void>;
  getChildren(parentId: string): Promise<{ id: string; parentId: string | null; label: string }[]>;
  /** Deletes the session and its whole subtree (records, slots, refs). Refuses the root. */
  deleteSubtree(id: string): Promise<void>;
  /**
   * Always throws `INVALID_OPERATION`: the original 0.2.x detached the node here, which made a
   * second root. Use `deleteSubtree` to delete, `putNode` to move.
   */
  removeNode(id: string): Promise<never>;
  getGlobal(key: string): Promise<unknown | null>;
  putGlobal(key: string, value: unknown): Promise<void>;
  /** Writes the synthesis and the insights in one transaction (integration's commit). */
  commitIntegration(
    mainId: string,
    synthesis: string,
    insights: { sessionId: string; content: string }[],
  ): Promise<void>;
  transaction<T>(fn: (tx: MainStorage) => Promise<T>): Promise<T>;
}
