/*
 * Over 350 lines: one class whose operations share its private state and its transaction queue;
 * the state types and the input checks live in `store-support.ts`.
 */
import { randomUUID } from 'node:crypto';
import { copySessionMeta } from '../copy-session-meta';
import { SessionArchivedError, SessionError, sessionNotFoundError } from '../errors';
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
import type { ListRecordsOptions, Message, SessionMeta, SlotKey } from '../types';
import {
  type AddRefOutcome,
  byDepthThenIndex,
  checkLabel,
  checkLease,
  checkOwner,
  checkRecords,
  copy,
  emptyState,
  type InMemoryStoreOptions,
  invalid,
  now,
  type RecordPage,
  type RootInit,
  type StoredSession,
  type StoredSessionPatch,
  type StoreState,
  toRow,
} from './store-support';
import { cancelLedgerTurn, checkClaim, finishLedgerTurn, runningTurnOf, toStoredTurn } from './turn-ledger';

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
    const session = this.#state.sessions.get(id);
    return session ? toRow(session) : null;
  }

  /** The session-package meta, or `null`. */
  getMeta(id: string): SessionMeta | null {
    const session = this.#state.sessions.get(id);
    return session ? copySessionMeta(session) : null;
  }

  /** Every row, ordered by depth then index. */
  listRows(): SessionRow[] {
    return [...this.#state.sessions.values()].sort(byDepthThenIndex).map(toRow);
  }

  /** Ids of the direct children, ordered by index; `[]` for an unknown id. */
  childIds(id: string): string[] {
    return [...this.#state.sessions.values()]
      .filter((session) => session.parentId === id)
      .sort(byDepthThenIndex)
      .map((session) => session.id);
  }

  /** Ids this session references, in the order they were added; `[]` for an unknown id. */
  refs(id: string): string[] {
    return [...(this.#state.sessions.get(id)?.refs ?? [])];
  }

  /** A slot's content; `null` when the slot or the session is missing. */
  getSlot(id: string, key: SlotKey): string | null {
    return this.#state.sessions.get(id)?.slots[key] ?? null;
  }

  /** Records oldest first; the role filter applies before offset and limit. `[]` for an unknown id. */
  listRecords(id: string, options: ListRecordsOptions = {}): Message[] {
    let records = (this.#state.sessions.get(id)?.records ?? []).map((entry) => entry.message);
    if (options.role) records = records.filter((record) => record.role === options.role);
    const offset = Math.max(0, options.offset ?? 0);
    const end = options.limit === undefined ? undefined : offset + Math.max(0, options.limit);
    return copy(records.slice(offset, end));
  }

  /**
   * Up to `limit` records with a sequence number above `afterSeq`, oldest first; with `beforeSeq`,
   * the newest `limit` below it, still oldest first (`hasMore` then says whether older ones remain).
   */
  recordPage(
    id: string,
    options: { limit: number; afterSeq?: number | null; beforeSeq?: number | null },
  ): RecordPage {
    const all = this.#state.sessions.get(id)?.records ?? [];
    const limit = Math.max(0, options.limit);
    const before = options.beforeSeq;
    let page: { seq: number; message: Message }[];
    let hasMore: boolean;
    if (before !== undefined && before !== null) {
      const older = all.filter((entry) => entry.seq < before);
      page = limit === 0 ? [] : older.slice(-limit);
      hasMore = older.length > page.length;
    } else {
      const after = options.afterSeq ?? 0;
      const rest = all.filter((entry) => entry.seq > after);
      page = rest.slice(0, limit);
      hasMore = rest.length > page.length;
    }
    return {
      records: copy(page.map((entry) => entry.message)),
      seqs: page.map((entry) => entry.seq),
      lastSeq: page.length > 0 ? page[page.length - 1]!.seq : null,
      hasMore,
    };
  }

  /** What a turn needs to build its prompt: meta, counters, slots and the newest `maxRecords` records. */
  loadTurnContext(id: string, maxRecords: number): TurnContextData | null {
    const session = this.#state.sessions.get(id);
    if (!session) return null;
    const keep = Math.max(0, Math.floor(maxRecords));
    const window = keep === 0 ? [] : session.records.slice(-keep);
    return {
      meta: copySessionMeta(session),
      turnCount: session.turnCount,
      systemPrompt: session.slots.system_prompt ?? null,
      insight: session.slots.insight ?? null,
      memory: session.slots.memory ?? null,
      records: copy(window.map((entry) => entry.message)),
      hasOlderRecords: session.records.length > window.length,
    };
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
    return this.#write((state) => {
      checkLease(lease);
      const session = state.sessions.get(id);
      if (!session) return null;
      if (session.status !== 'active') return this.loadTurnContext(id, maxRecords);
      const check = claim ? checkClaim(state.turns, id, claim) : { kind: 'new' as const };
      if (check.kind === 'finished') {
        const context = this.loadTurnContext(id, 0)!;
        return { ...context, finishedTurn: check.turn };
      }
      const now = this.#clock();
      const held = session.lease;
      if (held && held.owner !== lease.owner && held.expiresAt > now) {
        const runningTurnId = runningTurnOf(state.turns, id);
        if (claim && check.kind === 'new' && claim.concurrency === 'enqueue') {
          state.turns.set(claim.turnId, {
            sessionId: id,
            requestHash: claim.requestHash,
            status: 'queued',
            cancelRequested: false,
          });
        }
        throw new SessionError('SESSION_BUSY', `session "${id}" is running another turn`, {
          details: {
            sessionId: id,
            retryAfterMs: Math.max(0, Math.ceil(held.expiresAt - now)),
            ...(runningTurnId ? { turnId: runningTurnId } : {}),
            ...(check.kind === 'same-turn-open' ? { sameTurn: true } : {}),
          },
        });
      }
      session.lease = { owner: lease.owner, expiresAt: now + lease.ttlMs };
      if (claim) {
        const prior = state.turns.get(claim.turnId);
        if (prior) prior.status = 'running';
        else
          state.turns.set(claim.turnId, {
            sessionId: id,
            requestHash: claim.requestHash,
            status: 'running',
            cancelRequested: false,
          });
      }
      return this.loadTurnContext(id, maxRecords);
    });
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
    return this.#write((state) => {
      checkLease({ owner, ttlMs });
      const session = state.sessions.get(id);
      if (!session?.lease || session.lease.owner !== owner) return false;
      session.lease = { owner, expiresAt: this.#clock() + ttlMs };
      return true;
    });
  }

  /** Clears the lease when `owner` holds it; no-op otherwise. */
  releaseTurnLease(id: string, owner: string): Promise<void> {
    return this.#write((state) => {
      checkOwner(owner);
      const session = state.sessions.get(id);
      if (session?.lease && session.lease.owner === owner) session.lease = null;
    });
  }

  /** A global value, or `null`. */
  getGlobal(key: string): unknown {
    return this.#state.globals.has(key) ? copy(this.#state.globals.get(key)) : null;
  }

  /** Every global, as one object. */
  globals(): Record<string, unknown> {
    return copy(Object.fromEntries(this.#state.globals));
  }

  // Writes

  /** Creates the root when the space has none; returns the root and whether it was created now. */
  ensureRoot(init: RootInit): Promise<{ row: SessionRow; created: boolean }> {
    return this.#write((state) => {
      const existing = state.rootId ? state.sessions.get(state.rootId) : undefined;
      if (existing) return { row: toRow(existing), created: false };
      checkLabel(init.label);
      const id = init.id ?? randomUUID();
      if (state.sessions.has(id)) throw invalid(`session id "${id}" is taken`);
      const at = init.createdAt ?? now();
      const root: StoredSession = {
        id,
        parentId: null,
        role: 'main',
        label: init.label,
        status: init.status ?? 'active',
        tags: [...(init.tags ?? [])],
        metadata: copy(init.metadata ?? {}),
        createdAt: at,
        updatedAt: at,
        lastActiveAt: at,
        depth: 0,
        index: 0,
        scope: null,
        turnCount: 0,
        sourceSessionId: null,
        nextChildIndex: 0,
        refs: [],
        slots: {},
        records: [],
        lease: null,
      };
      state.sessions.set(id, root);
      state.rootId = id;
      return { row: toRow(root), created: true };
    });
  }

  /** Creates a child under an active parent; see `SessionStorage.createChild`. */
  createChild(parentId: string, spec: ChildSessionSpec): Promise<SessionRow> {
    return this.#write((state) => {
      const parent = state.sessions.get(parentId);
      if (!parent) throw sessionNotFoundError(parentId);
      if (parent.status === 'archived') throw new SessionArchivedError(parentId);
      checkLabel(spec.label);
      const records = spec.records ?? [];
      checkRecords(records);
      const at = now();
      const systemPrompt = spec.systemPrompt === undefined ? parent.slots.system_prompt : spec.systemPrompt;
      const child: StoredSession = {
        id: randomUUID(),
        parentId,
        role: 'standard',
        label: spec.label,
        status: 'active',
        tags: [...(spec.tags ?? [])],
        metadata: copy(spec.metadata ?? {}),
        createdAt: at,
        updatedAt: at,
        lastActiveAt: at,
        depth: parent.depth + 1,
        index: parent.nextChildIndex,
        scope: spec.scope ?? null,
        turnCount: 0,
        sourceSessionId: spec.sourceSessionId ?? null,
        nextChildIndex: 0,
        refs: [],
        slots: typeof systemPrompt === 'string' ? { system_prompt: systemPrompt } : {},
        records: [],
        lease: null,
      };
      parent.nextChildIndex += 1;
      this.#append(state, child, records, at);
      state.sessions.set(child.id, child);
      return toRow(child);
    });
  }

  /** Changes the given fields and moves `updatedAt`. Throws `SESSION_NOT_FOUND`. */
  updateSession(id: string, patch: StoredSessionPatch): Promise<SessionRow> {
    return this.#write((state) => {
      const session = state.sessions.get(id);
      if (!session) throw sessionNotFoundError(id);
      if (patch.label !== undefined) checkLabel(patch.label);
      if (patch.status !== undefined && patch.status !== 'active' && patch.status !== 'archived') {
        throw invalid(`unknown status "${String(patch.status)}"`);
      }
      if (patch.label !== undefined) session.label = patch.label;
      if (patch.status !== undefined) session.status = patch.status;
      if (patch.tags !== undefined) session.tags = [...patch.tags];
      if (patch.metadata !== undefined) session.metadata = copy(patch.metadata);
      if (patch.scope !== undefined) session.scope = patch.scope;
      session.updatedAt = now();
      return toRow(session);
    });
  }

  /** Writes a slot. Throws `SESSION_NOT_FOUND`. */
  putSlot(id: string, key: SlotKey, content: string): Promise<void> {
    return this.#write((state) => {
      const session = state.sessions.get(id);
      if (!session) throw sessionNotFoundError(id);
      if (typeof content !== 'string') throw invalid(`slot "${key}" content must be a string`);
      session.slots[key] = content;
    });
  }

  /** Deletes a slot (no-op when missing). Throws `SESSION_NOT_FOUND`. */
  deleteSlot(id: string, key: SlotKey): Promise<void> {
    return this.#write((state) => {
      const session = state.sessions.get(id);
      if (!session) throw sessionNotFoundError(id);
      delete session.slots[key];
    });
  }

  /** Appends records in order (a missing timestamp becomes now). Throws `SESSION_NOT_FOUND`. */
  appendRecords(id: string, records: Message[]): Promise<void> {
    return this.#write((state) => {
      const session = state.sessions.get(id);
      if (!session) throw sessionNotFoundError(id);
      checkRecords(records);
      this.#append(state, session, records, now());
    });
  }

  /** Replaces every record of the session. Throws `SESSION_NOT_FOUND`. */
  replaceRecords(id: string, records: Message[]): Promise<void> {
    return this.#write((state) => {
      const session = state.sessions.get(id);
      if (!session) throw sessionNotFoundError(id);
      checkRecords(records);
      session.records = [];
      this.#append(state, session, records, now());
    });
  }

  /** Keeps the newest `keepRecent` records. Throws `SESSION_NOT_FOUND` or `INVALID_ARGUMENT`. */
  trimRecords(id: string, keepRecent: number): Promise<void> {
    return this.#write((state) => {
      if (!Number.isInteger(keepRecent) || keepRecent < 0) {
        throw invalid('keepRecent must be a non-negative integer', { keepRecent });
      }
      const session = state.sessions.get(id);
      if (!session) throw sessionNotFoundError(id);
      session.records = keepRecent === 0 ? [] : session.records.slice(-keepRecent);
    });
  }

  /** Writes a turn atomically; see `SessionStorage.commitTurn`. */
  commitTurn(id: string, commit: TurnCommit): Promise<TurnCommitResult> {
    return this.#write((state) => {
      const session = state.sessions.get(id);
      if (!session) throw sessionNotFoundError(id);
      if (session.status === 'archived') throw new SessionArchivedError(id);
      if (commit.expectedTurnCount !== undefined && commit.expectedTurnCount !== session.turnCount) {
        throw new SessionError('TURN_CONFLICT', `session "${id}" changed during the turn`, {
          details: { sessionId: id, expected: commit.expectedTurnCount, actual: session.turnCount },
        });
      }
      checkRecords(commit.records);
      if (commit.releaseLease !== undefined) checkOwner(commit.releaseLease);
      const ledgerTurn = commit.turn ? state.turns.get(commit.turn.turnId) : undefined;
      if (commit.turn) {
        if (!ledgerTurn || ledgerTurn.cancelRequested || ledgerTurn.status !== 'running') {
          throw new SessionError('TURN_CANCELLED', `turn "${commit.turn.turnId}" was cancelled`, {
            details: { turnId: commit.turn.turnId },
          });
        }
        if (commit.releaseLease === undefined || session.lease?.owner !== commit.releaseLease) {
          throw new SessionError('TURN_CONFLICT', `turn "${commit.turn.turnId}" lost its session's lease`, {
            details: { turnId: commit.turn.turnId, sessionId: id },
          });
        }
      }
      const at = now();
      this.#append(state, session, commit.records, at);
      if (typeof commit.consumeInsight === 'string' && session.slots.insight === commit.consumeInsight) {
        delete session.slots.insight;
      }
      if (commit.countTurn) session.turnCount += 1;
      if (commit.releaseLease !== undefined && session.lease?.owner === commit.releaseLease)
        session.lease = null;
      if (ledgerTurn && commit.turn) {
        ledgerTurn.status = 'completed';
        ledgerTurn.result = structuredClone(commit.turn.result);
        if (commit.turn.lastSeq !== undefined) ledgerTurn.lastSeq = commit.turn.lastSeq;
      }
      session.lastActiveAt = at;
      session.updatedAt = at;
      return { turnCount: session.turnCount, lastActiveAt: at };
    });
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
    return this.#write((state) => {
      const main = state.sessions.get(mainId);
      if (!main) throw sessionNotFoundError(mainId);
      if (main.role !== 'main')
        throw new SessionError('NOT_MAIN_SESSION', `session "${mainId}" is not the main session`);
      if (typeof synthesis !== 'string') throw invalid('synthesis must be a string');
      for (const insight of insights) {
        if (!state.sessions.has(insight.sessionId)) throw sessionNotFoundError(insight.sessionId);
        if (typeof insight.content !== 'string') throw invalid('insight content must be a string');
      }
      main.slots.memory = synthesis;
      // Like the PostgreSQL store: a target archived (or the root itself) since integration read
      // the children is skipped rather than failing the whole integration.
      for (const insight of insights) {
        const target = state.sessions.get(insight.sessionId)!;
        if (target.role === 'standard' && target.status === 'active') target.slots.insight = insight.content;
      }
    });
  }

  /** Adds a ref unless it would point at itself, an ancestor or a descendant; idempotent. */
  addRef(fromId: string, toId: string): Promise<AddRefOutcome> {
    return this.#write((state) => {
      const from = state.sessions.get(fromId);
      if (!from || !state.sessions.has(toId)) return 'missing';
      if (fromId === toId) return 'self';
      if (this.#isAncestor(state, toId, fromId)) return 'ancestor';
      if (this.#isAncestor(state, fromId, toId)) return 'descendant';
      if (from.refs.includes(toId)) return 'exists';
      from.refs.push(toId);
      return 'added';
    });
  }

  /**
   * Renames a session and, when `parentId` changes, moves it (with its subtree) under the new
   * parent at the next free index, recomputing depths. The root stays the root.
   */
  moveSession(id: string, parentId: string | null, label: string): Promise<void> {
    return this.#write((state) => {
      const session = state.sessions.get(id);
      if (!session) throw sessionNotFoundError(id);
      checkLabel(label);
      if (session.parentId !== parentId) {
        if (parentId === null || session.parentId === null)
          throw invalid('the root cannot be moved or replaced');
        const parent = state.sessions.get(parentId);
        if (!parent) throw sessionNotFoundError(parentId);
        if (parentId === id || this.#isAncestor(state, id, parentId)) {
          throw invalid(`session "${id}" cannot move under its own subtree`);
        }
        session.parentId = parentId;
        session.index = parent.nextChildIndex;
        parent.nextChildIndex += 1;
        this.#setDepth(state, session, parent.depth + 1);
      }
      session.label = label;
      session.updatedAt = now();
    });
  }

  /** Deletes a session and its subtree (records, slots, refs to them). The root cannot be removed. */
  removeSubtree(id: string): Promise<void> {
    return this.#write((state) => {
      const session = state.sessions.get(id);
      if (!session) return;
      if (session.parentId === null) throw invalid('the root session cannot be removed');
      const doomed = new Set<string>([id]);
      for (const candidate of [...state.sessions.values()].sort(byDepthThenIndex)) {
        if (candidate.parentId !== null && doomed.has(candidate.parentId)) doomed.add(candidate.id);
      }
      for (const doomedId of doomed) state.sessions.delete(doomedId);
      for (const remaining of state.sessions.values()) {
        remaining.refs = remaining.refs.filter((ref) => !doomed.has(ref));
      }
    });
  }

  /** Writes a global (JSON-like) value; `undefined` is stored as `null`. */
  putGlobal(key: string, value: unknown): Promise<void> {
    return this.#write((state) => {
      if (typeof key !== 'string' || key.length === 0) throw invalid('global key must be a non-empty string');
      state.globals.set(key, value === undefined ? null : copy(value));
    });
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

  #append(state: StoreState, session: StoredSession, records: Message[], at: string): void {
    for (const record of records) {
      const message = copy(record);
      if (!message.timestamp) message.timestamp = at;
      session.records.push({ seq: state.nextSeq, message });
      state.nextSeq += 1;
    }
  }

  /** True when `ancestorId` is a strict ancestor of `id`. */
  #isAncestor(state: StoreState, ancestorId: string, id: string): boolean {
    let current = state.sessions.get(id)?.parentId ?? null;
    while (current !== null) {
      if (current === ancestorId) return true;
      current = state.sessions.get(current)?.parentId ?? null;
    }
    return false;
  }

  #setDepth(state: StoreState, session: StoredSession, depth: number): void {
    session.depth = depth;
    for (const child of state.sessions.values()) {
      if (child.parentId === session.id) this.#setDepth(state, child, depth + 1);
    }
  }
}
