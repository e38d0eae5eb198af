import type { Message, SessionStatus } from '@stello-ai/session';

/** Core's view of a session (no role). Timestamps are ISO-8601. */
export interface SessionMeta {
  id: string;
  label: string;
  scope: string | null;
  status: SessionStatus;
  /** Completed user turns (tool rounds do not count). */
  turnCount: number;
  metadata: Record<string, unknown>;
  tags: string[];
  createdAt: string;
  updatedAt: string;
  lastActiveAt: string;
}

/** A session's place in the tree. `depth` 0 is the root; `index` is its position among siblings. */
export interface TopologyNode {
  id: string;
  parentId: string | null;
  children: string[];
  refs: string[];
  depth: number;
  index: number;
  label: string;
  sourceSessionId: string | null;
}

/** Meta and topology together: the shape REST returns for one session. */
export type SessionInfo = SessionMeta & TopologyNode;

/** The nested tree, for rendering. */
export interface SessionTreeNode {
  id: string;
  label: string;
  /** The session it was forked from; absent when there is none (as in the original 0.2.x). */
  sourceSessionId?: string;
  status: SessionStatus;
  turnCount: number;
  depth: number;
  index: number;
  scope: string | null;
  children: SessionTreeNode[];
}

export interface CreateChildOptions {
  parentId: string;
  label: string;
  scope?: string | null;
  metadata?: Record<string, unknown>;
  tags?: string[];
  sourceSessionId?: string | null;
  /** `undefined` copies the parent's system prompt; `null` leaves the child without one. */
  systemPrompt?: string | null;
  /** Records to seed the child with, written in the same transaction. */
  records?: Message[];
}

export interface SessionMetaPatch {
  label?: string;
  scope?: string | null;
  tags?: string[];
  metadata?: Record<string, unknown>;
  /** Sets the stored turn count (the original 0.2.x scheduler wrote it); turns count on from it. */
  turnCount?: number;
}

/** A metadata value a listing can match on (JSON equality of one top-level key). */
export type SessionMetadataValue = string | number | boolean | null;

/** Filters of a session listing; every given filter must hold. */
export interface SessionListFilter {
  /** Only sessions of this status. */
  status?: SessionStatus;
  /** Only sessions carrying every one of these tags. */
  tags?: string[];
  /** Only sessions whose label starts with this text (literal and case-sensitive: no wildcards). */
  labelPrefix?: string;
  /** Only sessions whose `metadata[key]` equals one of the listed values, for every key. */
  metadata?: Record<string, SessionMetadataValue[]>;
}

/** Options of `SessionTree.listPage`. */
export interface SessionListOptions extends SessionListFilter {
  /** Page size, at least 1 (a store may cap it). */
  limit: number;
  /** The `nextCursor` of the previous page; absent or `null` for the first. */
  after?: string | null;
}

/** One page of a session listing, by depth, then index, then id. */
export interface SessionListPage {
  sessions: SessionInfo[];
  /** Cursor of the next page; `null` on the last one. */
  nextCursor: string | null;
}

/**
 * The topology of one space's sessions. Every read of the whole tree, of ancestors or siblings
 * is a bounded number of statements whatever the tree's size.
 */
export interface SessionTree {
  /** Creates the root if the space has none; returns the (existing or new) root. Idempotent. */
  createRoot(label?: string): Promise<TopologyNode>;
  /** Throws `SESSION_NOT_FOUND` / `SESSION_ARCHIVED` for the parent; safe under concurrent calls. */
  createChild(options: CreateChildOptions): Promise<TopologyNode>;
  get(id: string): Promise<SessionMeta | null>;
  /** Throws `SESSION_NOT_FOUND` when the space has no root. */
  getRoot(): Promise<SessionMeta>;
  listAll(): Promise<SessionMeta[]>;
  /** Every session with its topology, ordered by depth then index. One statement. */
  listInfo(): Promise<SessionInfo[]>;
  /**
   * One filtered page of `listInfo`'s order (ties broken by id), after an opaque cursor. Optional:
   * `listSessionPage` falls back to `listInfo`. Throws `INVALID_ARGUMENT` for a bad limit or cursor.
   */
  listPage?(options: SessionListOptions): Promise<SessionListPage>;
  getInfo(id: string): Promise<SessionInfo | null>;
  /** Throws `SESSION_NOT_FOUND`. Children are not affected. */
  archive(id: string): Promise<void>;
  /** Rejects self, ancestors and descendants (`INVALID_REF`); idempotent. */
  addRef(fromId: string, toId: string): Promise<void>;
  updateMeta(id: string, patch: SessionMetaPatch): Promise<SessionMeta>;
  getNode(id: string): Promise<TopologyNode | null>;
  getTree(): Promise<SessionTreeNode>;
  /** Parent first, root last; each with its topology (also the original's `TopologyNode[]`). */
  getAncestors(id: string): Promise<SessionInfo[]>;
  getSiblings(id: string): Promise<TopologyNode[]>;
}

/** A record as core reads and writes it. */
export interface TurnRecord {
  /**
   * The stored record's stable id (a decimal string), set by `readRecordPage`; it is also a
   * cursor of that method. Ignored on writes.
   */
  id?: string;
  role: Message['role'];
  content: string;
  timestamp: string;
  metadata?: Record<string, unknown>;
  toolCalls?: Message['toolCalls'];
  toolCallId?: string;
}

export interface AssembledContext {
  /** Space-wide L1 data. */
  core: Record<string, unknown>;
  /** Ancestors' L2, nearest first, empty ones skipped. */
  memories: string[];
  currentMemory: string | null;
  scope: string | null;
}

/** Memory access for one space: L1 core data, per-session slots and L3 records. */
export interface MemoryEngine {
  readCore(path?: string): Promise<unknown>;
  writeCore(path: string, value: unknown): Promise<void>;
  readMemory(sessionId: string): Promise<string | null>;
  writeMemory(sessionId: string, content: string): Promise<void>;
  readScope(sessionId: string): Promise<string | null>;
  writeScope(sessionId: string, content: string): Promise<void>;
  readIndex(sessionId: string): Promise<string | null>;
  writeIndex(sessionId: string, content: string): Promise<void>;
  appendRecord(sessionId: string, record: TurnRecord): Promise<void>;
  replaceRecords?(sessionId: string, records: TurnRecord[]): Promise<void>;
  /** All records, oldest first. */
  readRecords(sessionId: string): Promise<TurnRecord[]>;
  /**
   * One page, oldest first, after an opaque cursor; `nextCursor` is `null` on the last page. With
   * `before` instead, the newest `limit` records older than that cursor, still oldest first, and
   * `prevCursor` (`null` when nothing older remains) for the page before, and `nextCursor` `null`
   * (the last record's `id` as `after` reads on). A record's `id` is a cursor too. Giving both
   * `after` and `before` throws `INVALID_ARGUMENT`.
   */
  readRecordPage(
    sessionId: string,
    options: { limit: number; after?: string | null; before?: string | null },
  ): Promise<{ records: TurnRecord[]; nextCursor: string | null; prevCursor?: string | null }>;
  assembleContext(sessionId: string): Promise<AssembledContext>;
}

export interface BootstrapResult {
  context: AssembledContext;
  session: SessionMeta;
}

/** The result of a turn, as REST `turn` and WS `turn.complete` / `stream.end` return it. */
export interface EngineTurnResult {
  /** The turn's id: the caller's `turnId`, or one generated for it. */
  turnId: string;
  turn: {
    finalContent: string | null;
    toolRoundCount: number;
    toolCallsExecuted: number;
    /** The final LLM answer serialized as JSON (`{content, toolCalls, usage}`). */
    rawResponse: string;
  };
}

/** Streamed text of every round, the turn's id at once, and the turn's result once stored. */
export type EngineStreamResult = AsyncIterable<string> & {
  result: Promise<EngineTurnResult>;
  /** The turn's id (the caller's `turnId`, or the one generated for it), known before any delta. */
  turnId: string;
};
