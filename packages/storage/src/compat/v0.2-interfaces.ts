/**
 * The storage interfaces of the ORIGINAL `@stello-ai/session` 0.2.3 and `@stello-ai/core` 0.2.2
 * (what `@stello-ai/server` 0.2.2 was built on), written from its published README, API
 * reference and source notes: the original shapes, not ours. Types only; nothing imports them
 * at run time. `compat/original-interfaces.test.ts` type-checks the four Pg classes against them
 * (`pnpm typecheck` covers tests), so a change that breaks an app built on 0.2.x fails the build.
 * @module
 */

// ---- @stello-ai/session 0.2.3 ----

export type V02MessageRole = 'system' | 'user' | 'assistant' | 'tool';

export interface V02ToolCall {
  id: string;
  name: string;
  input: Record<string, unknown>;
}

export interface V02Message {
  role: V02MessageRole;
  content: string;
  /** Assistant messages only. */
  toolCalls?: V02ToolCall[];
  /** Tool messages only. */
  toolCallId?: string;
  /** ISO-8601. */
  timestamp?: string;
}

/** The session package's meta: no tree fields, no turn count, no scope. */
export interface V02SessionMeta {
  readonly id: string;
  label: string;
  role: 'standard' | 'main';
  status: 'active' | 'archived';
  tags: string[];
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface V02ListRecordsOptions {
  limit?: number;
  offset?: number;
  role?: V02MessageRole;
}

export interface V02SessionFilter {
  status?: 'active' | 'archived';
  role?: 'standard' | 'main';
  /** Sessions that have all of them. */
  tags?: string[];
}

export interface V02ChildL2Summary {
  sessionId: string;
  label: string;
  l2: string;
}

/** The session package's lightweight three-field node (`putNode`, `getChildren`). */
export interface V02LightTopologyNode {
  id: string;
  parentId: string | null;
  label: string;
}

export interface V02SessionStorage {
  getSession(id: string): Promise<V02SessionMeta | null>;
  /** Upserts: the original `createSession()` and `fork()` put a fresh id here. */
  putSession(meta: V02SessionMeta): Promise<void>;
  appendRecord(sessionId: string, record: V02Message): Promise<void>;
  listRecords(sessionId: string, options?: V02ListRecordsOptions): Promise<V02Message[]>;
  trimRecords(sessionId: string, keepRecent: number): Promise<void>;
  getSystemPrompt(sessionId: string): Promise<string | null>;
  putSystemPrompt(sessionId: string, content: string): Promise<void>;
  getInsight(sessionId: string): Promise<string | null>;
  putInsight(sessionId: string, content: string): Promise<void>;
  clearInsight(sessionId: string): Promise<void>;
  getMemory(sessionId: string): Promise<string | null>;
  putMemory(sessionId: string, content: string): Promise<void>;
  transaction<T>(fn: (tx: V02SessionStorage) => Promise<T>): Promise<T>;
}

export interface V02MainStorage extends V02SessionStorage {
  getAllSessionL2s(): Promise<V02ChildL2Summary[]>;
  listSessions(filter?: V02SessionFilter): Promise<V02SessionMeta[]>;
  putNode(node: V02LightTopologyNode): Promise<void>;
  getChildren(parentId: string): Promise<V02LightTopologyNode[]>;
  removeNode(nodeId: string): Promise<void>;
  getGlobal(key: string): Promise<unknown>;
  putGlobal(key: string, value: unknown): Promise<void>;
}

// ---- @stello-ai/core 0.2.2 ----

/** Core's meta: a scope and a turn count, no role. */
export interface V02CoreSessionMeta {
  id: string;
  label: string;
  scope: string | null;
  status: 'active' | 'archived';
  turnCount: number;
  metadata: Record<string, unknown>;
  tags: string[];
  createdAt: string;
  updatedAt: string;
  lastActiveAt: string;
}

/** Core's node at 0.2.2 (no `sourceSessionId`; that came later, optional). */
export interface V02TopologyNode {
  id: string;
  parentId: string | null;
  children: string[];
  refs: string[];
  depth: number;
  index: number;
  label: string;
}

/** The nested tree `getTree()` returns for rendering; `sourceSessionId` is absent, never null. */
export interface V02SessionTreeNode {
  id: string;
  label: string;
  sourceSessionId?: string;
  status: 'active' | 'archived';
  turnCount: number;
  children: V02SessionTreeNode[];
}

export interface V02CreateSessionOptions {
  parentId: string;
  label: string;
  scope?: string;
  metadata?: Record<string, unknown>;
  tags?: string[];
}

export interface V02MetaUpdate {
  label?: string;
  scope?: string | null;
  tags?: string[];
  metadata?: Record<string, unknown>;
  turnCount?: number;
}

export interface V02SessionTree {
  createChild(options: V02CreateSessionOptions): Promise<V02TopologyNode>;
  get(id: string): Promise<V02CoreSessionMeta | null>;
  getRoot(): Promise<V02CoreSessionMeta>;
  listAll(): Promise<V02CoreSessionMeta[]>;
  archive(id: string): Promise<void>;
  addRef(fromId: string, toId: string): Promise<void>;
  updateMeta(id: string, updates: V02MetaUpdate): Promise<V02CoreSessionMeta>;
  getNode(id: string): Promise<V02TopologyNode | null>;
  getTree(): Promise<V02SessionTreeNode>;
  /** "Parent up to root". */
  getAncestors(id: string): Promise<V02TopologyNode[]>;
  getSiblings(id: string): Promise<V02TopologyNode[]>;
}

export interface V02TurnRecord {
  role: V02MessageRole;
  content: string;
  /** ISO-8601, required. */
  timestamp: string;
  metadata?: Record<string, unknown>;
}

export interface V02AssembledContext {
  core: Record<string, unknown>;
  /** Ancestors' L2, nearest first. */
  memories: string[];
  currentMemory: string | null;
  scope: string | null;
}

export interface V02MemoryEngine {
  readCore(path?: string): Promise<unknown>;
  writeCore(path: string, value: unknown): Promise<void>;
  readMemory(sessionId: string): Promise<string | null>;
  writeMemory(sessionId: string, content: string): Promise<void>;
  readScope(sessionId: string): Promise<string | null>;
  writeScope(sessionId: string, content: string): Promise<void>;
  readIndex(sessionId: string): Promise<string | null>;
  writeIndex(sessionId: string, content: string): Promise<void>;
  appendRecord(sessionId: string, record: V02TurnRecord): Promise<void>;
  replaceRecords?(sessionId: string, records: V02TurnRecord[]): Promise<void>;
  readRecords(sessionId: string): Promise<V02TurnRecord[]>;
  assembleContext(sessionId: string): Promise<V02AssembledContext>;
}
