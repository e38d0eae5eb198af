import type {
  ChildSessionSpec,
  SessionRow,
  StoredTurn,
  TurnClaim,
  TurnCommit,
  TurnCommitResult,
  TurnContextData,
  TurnLeaseClaim,
  TurnStatus,
} from '../storage';
import type { ListRecordsOptions, Message, SessionMeta, SessionStatus, SlotKey } from '../types';
import * as contentWrites from './store-content-writes';
import * as reads from './store-reads';
import {
  type AddRefOutcome,
  emptyState,
  type InMemoryStoreOptions,
  invalid,
  type RecordPage,
  type RootInit,
  type StoredSessionPatch,
  type StoreState,
} from './store-support';
import * as treeWrites from './store-tree-writes';
import * as turnLease from './store-turn-lease';
import { cancelLedgerTurn, finishLedgerTurn, toStoredTurn } from './turn-ledger';

export type {
  AddRefOutcome,
  InMemoryStoreOptions,
  RecordPage,
  RootInit,
  StoredSessionPatch,
} from './store-support';

/**
 * The shared state of one in-memory space: sessions with their tree fields, slots, records (with
 * a strictly increasing sequence number), refs and space-wide globals. `InMemoryStorageAdapter`
 * (session) and core's `InMemorySessionTree` / `InMemoryMemoryEngine` are views over one store,
 * so they see the same data.
 *
 * Reads return copies and see committed data. Each write is atomic. `transaction(fn)` runs `fn`
 * on a private copy of the state and swaps it in when `fn` resolves; writes outside the
 * transaction wait until it ends (like row locks), so nothing is lost and a throw discards
 * everything `fn` wrote. Do not write through the outer store from inside `fn` (it would wait for
 * the transaction): use the store `fn` receives.
 */
export class InMemoryStore {
  #state: StoreState = emptyState();
  readonly #clock: () => number;
  #tail: Promise<unknown> = Promise.resolve();
  /** Set on the private copy a transaction works on; `open` turns false when it ends. */
  #tx: { open: boolean } | null = null;

  constructor(options: InMemoryStoreOptions = {}) {
    this.#clock = options.clock ?? Date.now;
  }

  /** The root's id, or `null` while the space has no root. */
  get rootId(): string | null {
    return this.#state.rootId;
  }

  /** True when this store is the working copy of a running transaction. */
  get inTransaction(): boolean {
    return this.#tx !== null;
  }

  // Reads

  /** The stored row, or `null`. */
  getRow(id: string): SessionRow | null {
    return reads.getRow(this.#state, id);
  }

  /** The session-package meta, or `null`. */
  getMeta(id: string): SessionMeta | null {
    return reads.getMeta(this.#state, id);
  }

  /** Every row, ordered by depth then index. */
  listRows(): SessionRow[] {
    return reads.listRows(this.#state);
  }

  /** Ids of the direct children, ordered by index; `[]` for an unknown id. */
  childIds(id: string): string[] {
    return reads.childIds(this.#state, id);
  }

  /** Ids this session references, in the order they were added; `[]` for an unknown id. */
  refs(id: string): string[] {
    return reads.refs(this.#state, id);
  }

  /** A slot's content; `null` when the slot or the session is missing. */
  getSlot(id: string, key: SlotKey): string | null {
    return reads.getSlot(this.#state, id, key);
  }

  /** Records oldest first; the role filter applies before offset and limit. `[]` for an unknown id. */
  listRecords(id: string, options: ListRecordsOptions = {}): Message[] {
    return reads.listRecords(this.#state, id, options);
  }

  /**
   * Up to `limit` records with a sequence number above `afterSeq`, oldest first; with `beforeSeq`,
   * the newest `limit` below it, still oldest first (`hasMore` then says whether older ones remain).
   */
  recordPage(
    id: string,
    options: { limit: number; afterSeq?: number | null; beforeSeq?: number | null },
  ): RecordPage {
    return reads.recordPage(this.#state, id, options);
  }

  /** What a turn needs to build its prompt: meta, counters, slots and the newest `maxRecords` records. */
  loadTurnContext(id: string, maxRecords: number): TurnContextData | null {
    return reads.loadTurnContext(this.#state, id, maxRecords);
  }

  /**
   * Takes the turn lease of an active session and reads its turn context, atomically; see
   * `SessionStorage.loadTurnContext`. `null` for an unknown id; an archived session is read
   * without taking the lease. Throws `SESSION_BUSY` when another owner holds a live lease.
   */
  leaseTurnContext(
    id: string,
    maxRecords: number,
    lease: TurnLeaseClaim,
    claim?: TurnClaim,
  ): Promise<TurnContextData | null> {
    return this.#write((state) =>
      turnLease.leaseTurnContext(state, this.#clock, id, maxRecords, lease, claim),
    );
  }

  /** A turn of the ledger; `null` when unknown (or of another session). */
  getTurn(sessionId: string, turnId: string): StoredTurn | null {
    const turn = this.#state.turns.get(turnId);
    return turn && turn.sessionId === sessionId ? toStoredTurn(turnId, turn) : null;
  }

  /** Marks an open turn failed or cancelled. */
  finishTurn(
    sessionId: string,
    turnId: string,
    status: 'failed' | 'cancelled',
    error: { code: string; message: string },
  ): Promise<void> {
    return this.#write((state) => finishLedgerTurn(state.turns, sessionId, turnId, status, error));
  }

  /** Requests a turn's cancel; `null` for an unknown session. */
  requestTurnCancel(sessionId: string, turnId: string): Promise<TurnStatus | null> {
    return this.#write((state) =>
      state.sessions.has(sessionId) ? cancelLedgerTurn(state.turns, sessionId, turnId) : null,
    );
  }

  /** Extends the lease `owner` holds to `ttlMs` from now; `false` when it does not hold it. */
  renewTurnLease(id: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.#write((state) => turnLease.renewTurnLease(state, this.#clock, id, owner, ttlMs));
  }

  /** Clears the lease when `owner` holds it; no-op otherwise. */
  releaseTurnLease(id: string, owner: string): Promise<void> {
    return this.#write((state) => turnLease.releaseTurnLease(state, id, owner));
  }

  /** A global value, or `null`. */
  getGlobal(key: string): unknown {
    return reads.getGlobal(this.#state, key);
  }

  /** Every global, as one object. */
  globals(): Record<string, unknown> {
    return reads.globals(this.#state);
  }

  // Writes

  /** Creates the root when the space has none; returns the root and whether it was created now. */
  ensureRoot(init: RootInit): Promise<{ row: SessionRow; created: boolean }> {
    return this.#write((state) => treeWrites.ensureRoot(state, init));
  }

  /** Creates a child under an active parent; see `SessionStorage.createChild`. */
  createChild(
    parentId: string,
    spec: ChildSessionSpec,
    fixed: { id?: string; status?: SessionStatus } = {},
  ): Promise<SessionRow> {
    return this.#write((state) => treeWrites.createChild(state, parentId, spec, fixed));
  }

  /** Changes the given fields and moves `updatedAt`. Throws `SESSION_NOT_FOUND`. */
  updateSession(id: string, patch: StoredSessionPatch): Promise<SessionRow> {
    return this.#write((state) => treeWrites.updateSession(state, id, patch));
  }

  /** Writes a slot. Throws `SESSION_NOT_FOUND`. */
  putSlot(id: string, key: SlotKey, content: string): Promise<void> {
    return this.#write((state) => contentWrites.putSlot(state, id, key, content));
  }

  /** Deletes a slot (no-op when missing). Throws `SESSION_NOT_FOUND`. */
  deleteSlot(id: string, key: SlotKey): Promise<void> {
    return this.#write((state) => contentWrites.deleteSlot(state, id, key));
  }

  /** Appends records in order (a missing timestamp becomes now). Throws `SESSION_NOT_FOUND`. */
  appendRecords(id: string, records: Message[]): Promise<void> {
    return this.#write((state) => contentWrites.appendRecords(state, id, records));
  }

  /** Replaces every record of the session. Throws `SESSION_NOT_FOUND`. */
  replaceRecords(id: string, records: Message[]): Promise<void> {
    return this.#write((state) => contentWrites.replaceRecords(state, id, records));
  }

  /** Keeps the newest `keepRecent` records. Throws `SESSION_NOT_FOUND` or `INVALID_ARGUMENT`. */
  trimRecords(id: string, keepRecent: number): Promise<void> {
    return this.#write((state) => contentWrites.trimRecords(state, id, keepRecent));
  }

  /** Writes a turn atomically; see `SessionStorage.commitTurn`. */
  commitTurn(id: string, commit: TurnCommit): Promise<TurnCommitResult> {
    return this.#write((state) => contentWrites.commitTurn(state, id, commit));
  }

  /**
   * Writes the synthesis into the main session's memory slot and each insight into its target,
   * atomically. Throws `SESSION_NOT_FOUND` (main or a target missing) or `NOT_MAIN_SESSION`.
   */
  commitIntegration(
    mainId: string,
    synthesis: string,
    insights: { sessionId: string; content: string }[],
  ): Promise<void> {
    return this.#write((state) => contentWrites.commitIntegration(state, mainId, synthesis, insights));
  }

  /** Adds a ref unless it would point at itself, an ancestor or a descendant; idempotent. */
  addRef(fromId: string, toId: string): Promise<AddRefOutcome> {
    return this.#write((state) => treeWrites.addRef(state, fromId, toId));
  }

  /**
   * Renames a session and, when `parentId` changes, moves it (with its subtree) under the new
   * parent at the next free index, recomputing depths. The root stays the root.
   */
  moveSession(id: string, parentId: string | null, label: string): Promise<void> {
    return this.#write((state) => treeWrites.moveSession(state, id, parentId, label));
  }

  /** Deletes a session and its subtree (records, slots, refs to them). The root cannot be removed. */
  removeSubtree(id: string): Promise<void> {
    return this.#write((state) => treeWrites.removeSubtree(state, id));
  }

  /** Writes a global (JSON-like) value; `undefined` is stored as `null`. */
  putGlobal(key: string, value: unknown): Promise<void> {
    return this.#write((state) => contentWrites.putGlobal(state, key, value));
  }

  /**
   * Runs `fn` against a private copy of the state and makes its writes visible when it resolves;
   * a throw discards them. Other writes wait until it ends. Nested calls work on a copy of the
   * copy (a savepoint).
   */
  async transaction<T>(fn: (tx: InMemoryStore) => Promise<T>): Promise<T> {
    const run = async () => {
      const tx = new InMemoryStore({ clock: this.#clock });
      tx.#state = structuredClone(this.#state);
      tx.#tx = { open: true };
      try {
        const result = await fn(tx);
        this.#state = tx.#state;
        return result;
      } finally {
        tx.#tx.open = false;
      }
    };
    if (this.#tx) {
      this.#assertOpen();
      return run();
    }
    return this.#exclusive(run);
  }

  #assertOpen(): void {
    if (this.#tx && !this.#tx.open) throw invalid('the transaction has ended');
  }

  #exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.#tail.then(fn);
    this.#tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Applies a synchronous mutation: at once inside a transaction, else after any running one. */
  #write<T>(mutate: (state: StoreState) => T): Promise<T> {
    if (this.#tx) {
      try {
        this.#assertOpen();
        return Promise.resolve(mutate(this.#state));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#exclusive(() => mutate(this.#state));
  }
}
