import { removeNodeRefusedError, sessionNotFoundError } from '../errors';
import type {
  ChildSessionSpec,
  LoadTurnContextOptions,
  MainStorage,
  SessionRow,
  StoredTurn,
  TurnCommit,
  TurnCommitResult,
  TurnContextData,
  TurnStatus,
} from '../storage';
import type {
  ChildL2Summary,
  ListRecordsOptions,
  Message,
  SessionFilter,
  SessionMeta,
  SlotKey,
} from '../types';
import { InMemoryStore } from './in-memory-store';

/**
 * The reference `MainStorage`, kept in memory: one adapter serves one space (one
 * `InMemoryStore`). Share the store with core's `InMemorySessionTree` and `InMemoryMemoryEngine`
 * to give an agent a complete in-memory backend. Used by tests and examples; nothing persists.
 *
 * @example
 * const storage = new InMemoryStorageAdapter();
 * const main = await createMainSession({ storage, llm, label: 'My space' });
 */
export class InMemoryStorageAdapter implements MainStorage {
  /** The state this adapter reads and writes. */
  readonly store: InMemoryStore;

  constructor(store: InMemoryStore = new InMemoryStore()) {
    this.store = store;
  }

  async getSession(id: string): Promise<SessionMeta | null> {
    return this.store.getMeta(id);
  }

  /**
   * Updates label, status, tags and metadata of an existing session (role and `createdAt` are
   * fixed at creation). An unknown id is created, as the original 0.2.x `createSession()` and
   * `fork()` expect: the root when `meta.role` is `main` and the space has none (a second root is
   * `SESSION_NOT_FOUND`), a standard session as the next child of the root.
   */
  async putSession(meta: SessionMeta): Promise<void> {
    if (this.store.getRow(meta.id)) {
      await this.store.updateSession(meta.id, {
        label: meta.label,
        status: meta.status,
        tags: meta.tags,
        metadata: meta.metadata,
      });
      return;
    }
    if (meta.role === 'main') {
      const { row, created } = await this.store.ensureRoot({
        id: meta.id,
        label: meta.label,
        status: meta.status,
        tags: meta.tags,
        metadata: meta.metadata,
        createdAt: meta.createdAt,
      });
      if (created && row.id === meta.id) return;
      throw sessionNotFoundError(meta.id);
    }
    const rootId = this.store.rootId;
    if (rootId === null) throw sessionNotFoundError(meta.id);
    await this.store.createChild(
      rootId,
      { label: meta.label, tags: meta.tags, metadata: meta.metadata, systemPrompt: null },
      { id: meta.id, status: meta.status },
    );
  }

  async appendRecord(sessionId: string, record: Message): Promise<void> {
    await this.store.appendRecords(sessionId, [record]);
  }

  async listRecords(sessionId: string, options?: ListRecordsOptions): Promise<Message[]> {
    return this.store.listRecords(sessionId, options);
  }

  async trimRecords(sessionId: string, keepRecent: number): Promise<void> {
    await this.store.trimRecords(sessionId, keepRecent);
  }

  async getSystemPrompt(sessionId: string): Promise<string | null> {
    return this.store.getSlot(sessionId, 'system_prompt');
  }

  async putSystemPrompt(sessionId: string, content: string): Promise<void> {
    await this.store.putSlot(sessionId, 'system_prompt', content);
  }

  async getInsight(sessionId: string): Promise<string | null> {
    return this.store.getSlot(sessionId, 'insight');
  }

  async putInsight(sessionId: string, content: string): Promise<void> {
    await this.store.putSlot(sessionId, 'insight', content);
  }

  async clearInsight(sessionId: string): Promise<void> {
    await this.store.deleteSlot(sessionId, 'insight');
  }

  async getMemory(sessionId: string): Promise<string | null> {
    return this.store.getSlot(sessionId, 'memory');
  }

  async putMemory(sessionId: string, content: string): Promise<void> {
    await this.store.putSlot(sessionId, 'memory', content);
  }

  async getSlot(sessionId: string, key: SlotKey): Promise<string | null> {
    return this.store.getSlot(sessionId, key);
  }

  async putSlot(sessionId: string, key: SlotKey, content: string): Promise<void> {
    await this.store.putSlot(sessionId, key, content);
  }

  /** The turn context; with `options.lease`, takes the turn lease atomically (or throws `SESSION_BUSY`). */
  async loadTurnContext(sessionId: string, options: LoadTurnContextOptions): Promise<TurnContextData | null> {
    if (options.lease)
      return this.store.leaseTurnContext(sessionId, options.maxRecords, options.lease, options.turn);
    return this.store.loadTurnContext(sessionId, options.maxRecords);
  }

  async commitTurn(sessionId: string, commit: TurnCommit): Promise<TurnCommitResult> {
    return this.store.commitTurn(sessionId, commit);
  }

  async renewTurnLease(sessionId: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.store.renewTurnLease(sessionId, owner, ttlMs);
  }

  async releaseTurnLease(sessionId: string, owner: string): Promise<void> {
    await this.store.releaseTurnLease(sessionId, owner);
  }

  /** The ledger entry of a turn; `null` when unknown. */
  async getTurn(sessionId: string, turnId: string): Promise<StoredTurn | null> {
    return this.store.getTurn(sessionId, turnId);
  }

  /** Marks an open turn `failed` or `cancelled`. */
  async finishTurn(
    sessionId: string,
    turnId: string,
    status: 'failed' | 'cancelled',
    error: { code: string; message: string },
  ): Promise<void> {
    await this.store.finishTurn(sessionId, turnId, status, error);
  }

  /** Requests a turn's cancel; the status after it, `null` for an unknown session. */
  async requestTurnCancel(sessionId: string, turnId: string): Promise<TurnStatus | null> {
    return this.store.requestTurnCancel(sessionId, turnId);
  }

  async createChild(parentId: string, spec: ChildSessionSpec): Promise<SessionRow> {
    return this.store.createChild(parentId, spec);
  }

  async getSessionRow(id: string): Promise<SessionRow | null> {
    return this.store.getRow(id);
  }

  /** Active standard sessions with a memory slot, ordered by depth then index. */
  async getAllSessionL2s(): Promise<ChildL2Summary[]> {
    const summaries: ChildL2Summary[] = [];
    for (const row of this.store.listRows()) {
      if (row.role !== 'standard' || row.status !== 'active') continue;
      const l2 = this.store.getSlot(row.id, 'memory');
      if (l2 !== null) summaries.push({ sessionId: row.id, label: row.label, l2 });
    }
    return summaries;
  }

  /** Sessions matching every given filter (tags: has all of them), ordered by depth then index. */
  async listSessions(filter: SessionFilter = {}): Promise<SessionMeta[]> {
    return this.store
      .listRows()
      .filter(
        (row) =>
          (filter.status === undefined || row.status === filter.status) &&
          (filter.role === undefined || row.role === filter.role) &&
          (filter.tags ?? []).every((tag) => row.tags.includes(tag)),
      )
      .map(({ id, label, role, status, tags, metadata, createdAt, updatedAt }) => ({
        id,
        label,
        role,
        status,
        tags,
        metadata,
        createdAt,
        updatedAt,
      }));
  }

  async putNode(node: { id: string; parentId: string | null; label: string }): Promise<void> {
    await this.store.moveSession(node.id, node.parentId, node.label);
  }

  async getChildren(parentId: string): Promise<{ id: string; parentId: string | null; label: string }[]> {
    return this.store.childIds(parentId).map((id) => {
      const row = this.store.getRow(id)!;
      return { id: row.id, parentId: row.parentId, label: row.label };
    });
  }

  async deleteSubtree(id: string): Promise<void> {
    await this.store.removeSubtree(id);
  }

  /** Refuses: see `MainStorage.removeNode`. */
  async removeNode(id: string): Promise<never> {
    throw removeNodeRefusedError(id);
  }

  async getGlobal(key: string): Promise<unknown | null> {
    return this.store.getGlobal(key);
  }

  async putGlobal(key: string, value: unknown): Promise<void> {
    await this.store.putGlobal(key, value);
  }

  async commitIntegration(
    mainId: string,
    synthesis: string,
    insights: { sessionId: string; content: string }[],
  ): Promise<void> {
    await this.store.commitIntegration(mainId, synthesis, insights);
  }

  /**
   * Runs `fn` with an adapter over a private copy of the space; its writes become visible when
   * `fn` resolves and are discarded when it throws. Writes through this (outer) adapter wait for
   * the transaction to end, so use only `tx` inside `fn`.
   */
  async transaction<T>(fn: (tx: MainStorage) => Promise<T>): Promise<T> {
    return this.store.transaction((txStore) => fn(new InMemoryStorageAdapter(txStore)));
  }
}
