import { type InMemoryStore, SessionError, type SessionRow, sessionNotFoundError } from '@stello-ai/session';
import { CoreError } from '../errors';
import { pageSessionInfos } from '../sessions/session-list';
import type {
  CreateChildOptions,
  SessionInfo,
  SessionListOptions,
  SessionListPage,
  SessionMeta,
  SessionMetaPatch,
  SessionTree,
  SessionTreeNode,
  TopologyNode,
} from '../types';

const DEFAULT_ROOT_LABEL = 'Main Session';

function toMeta(row: SessionRow): SessionMeta {
  return {
    id: row.id,
    label: row.label,
    scope: row.scope,
    status: row.status,
    turnCount: row.turnCount,
    metadata: row.metadata,
    tags: row.tags,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    lastActiveAt: row.lastActiveAt,
  };
}

/**
 * The in-memory `SessionTree`: a view over an `InMemoryStore` (one space), sharing its data with
 * `InMemoryStorageAdapter` and `InMemoryMemoryEngine`.
 *
 * @example
 * const store = new InMemoryStore();
 * const sessions = new InMemorySessionTree(store);
 * const root = await sessions.createRoot('My space');
 */
export class InMemorySessionTree implements SessionTree {
  readonly #store: InMemoryStore;

  constructor(store: InMemoryStore) {
    this.#store = store;
  }

  /** Creates the root (role `main`) if the space has none; returns the root either way. */
  async createRoot(label: string = DEFAULT_ROOT_LABEL): Promise<TopologyNode> {
    const { row } = await this.#store.ensureRoot({ label });
    return this.#node(row);
  }

  async createChild(options: CreateChildOptions): Promise<TopologyNode> {
    const spec: Parameters<InMemoryStore['createChild']>[1] = { label: options.label };
    if (options.scope !== undefined) spec.scope = options.scope;
    if (options.metadata !== undefined) spec.metadata = options.metadata;
    if (options.tags !== undefined) spec.tags = options.tags;
    if (options.sourceSessionId !== undefined) spec.sourceSessionId = options.sourceSessionId;
    if (options.systemPrompt !== undefined) spec.systemPrompt = options.systemPrompt;
    if (options.records !== undefined) spec.records = options.records;
    const row = await this.#store.createChild(options.parentId, spec);
    return this.#node(row);
  }

  async get(id: string): Promise<SessionMeta | null> {
    const row = this.#store.getRow(id);
    return row ? toMeta(row) : null;
  }

  async getRoot(): Promise<SessionMeta> {
    const rootId = this.#store.rootId;
    const row = rootId ? this.#store.getRow(rootId) : null;
    if (!row) throw new SessionError('SESSION_NOT_FOUND', 'the space has no root session');
    return toMeta(row);
  }

  async listAll(): Promise<SessionMeta[]> {
    return this.#store.listRows().map(toMeta);
  }

  async listInfo(): Promise<SessionInfo[]> {
    return this.#store.listRows().map((row) => this.#info(row));
  }

  /** One filtered page by depth, index, id. Throws `INVALID_ARGUMENT` for a bad limit or cursor. */
  async listPage(options: SessionListOptions): Promise<SessionListPage> {
    return pageSessionInfos(await this.listInfo(), options);
  }

  async getInfo(id: string): Promise<SessionInfo | null> {
    const row = this.#store.getRow(id);
    return row ? this.#info(row) : null;
  }

  async archive(id: string): Promise<void> {
    const row = this.#store.getRow(id);
    if (!row) throw sessionNotFoundError(id);
    if (row.status === 'archived') return;
    await this.#store.updateSession(id, { status: 'archived' });
  }

  async addRef(fromId: string, toId: string): Promise<void> {
    const outcome = await this.#store.addRef(fromId, toId);
    if (outcome === 'missing') throw sessionNotFoundError(this.#store.getRow(fromId) ? toId : fromId);
    if (outcome === 'self' || outcome === 'ancestor' || outcome === 'descendant') {
      const reason = outcome === 'self' ? 'itself' : `its ${outcome}`;
      throw new CoreError('INVALID_REF', `session "${fromId}" cannot reference ${reason} "${toId}"`, {
        details: { fromId, toId, reason: outcome },
      });
    }
  }

  async updateMeta(id: string, patch: SessionMetaPatch): Promise<SessionMeta> {
    const update: Parameters<InMemoryStore['updateSession']>[1] = {};
    if (patch.label !== undefined) update.label = patch.label;
    if (patch.scope !== undefined) update.scope = patch.scope;
    if (patch.tags !== undefined) update.tags = patch.tags;
    if (patch.metadata !== undefined) update.metadata = patch.metadata;
    if (patch.turnCount !== undefined) update.turnCount = patch.turnCount;
    return toMeta(await this.#store.updateSession(id, update));
  }

  async getNode(id: string): Promise<TopologyNode | null> {
    const row = this.#store.getRow(id);
    return row ? this.#node(row) : null;
  }

  /** The nested tree from the root. Throws `SESSION_NOT_FOUND` when the space has no root. */
  async getTree(): Promise<SessionTreeNode> {
    const rows = this.#store.listRows();
    const rootId = this.#store.rootId;
    const byParent = new Map<string, SessionRow[]>();
    let root: SessionRow | undefined;
    for (const row of rows) {
      if (row.id === rootId) root = row;
      if (row.parentId !== null) {
        const siblings = byParent.get(row.parentId) ?? [];
        siblings.push(row);
        byParent.set(row.parentId, siblings);
      }
    }
    if (!root) throw new SessionError('SESSION_NOT_FOUND', 'the space has no root session');
    const build = (row: SessionRow): SessionTreeNode => ({
      id: row.id,
      label: row.label,
      ...(row.sourceSessionId === null ? {} : { sourceSessionId: row.sourceSessionId }),
      status: row.status,
      turnCount: row.turnCount,
      depth: row.depth,
      index: row.index,
      scope: row.scope,
      children: (byParent.get(row.id) ?? []).map(build),
    });
    return build(root);
  }

  /** Ancestors, parent first and root last; `[]` for the root or an unknown id. */
  async getAncestors(id: string): Promise<SessionInfo[]> {
    const ancestors: SessionInfo[] = [];
    let parentId = this.#store.getRow(id)?.parentId ?? null;
    while (parentId !== null) {
      const parent = this.#store.getRow(parentId);
      if (!parent) break;
      ancestors.push(this.#info(parent));
      parentId = parent.parentId;
    }
    return ancestors;
  }

  /** The other children of the same parent, by index; `[]` for the root or an unknown id. */
  async getSiblings(id: string): Promise<TopologyNode[]> {
    const parentId = this.#store.getRow(id)?.parentId ?? null;
    if (parentId === null) return [];
    return this.#store
      .childIds(parentId)
      .filter((childId) => childId !== id)
      .map((childId) => this.#node(this.#store.getRow(childId)!));
  }

  #node(row: SessionRow): TopologyNode {
    return {
      id: row.id,
      parentId: row.parentId,
      children: this.#store.childIds(row.id),
      refs: this.#store.refs(row.id),
      depth: row.depth,
      index: row.index,
      label: row.label,
      sourceSessionId: row.sourceSessionId,
    };
  }

  #info(row: SessionRow): SessionInfo {
    return { ...toMeta(row), ...this.#node(row) };
  }
}
