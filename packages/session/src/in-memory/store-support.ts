/**
 * The state and the checks of `InMemoryStore`, apart from the store's operations.
 * @internal
 */
import { copySessionMeta } from '../copy-session-meta';
import { SessionError } from '../errors';
import type { SessionRow, TurnLeaseClaim } from '../storage';
import type { Message, SessionRole, SessionStatus, SlotKey } from '../types';
import type { TurnLedger } from './turn-ledger';

/** One session as the in-memory store keeps it. */
export interface StoredSession {
  id: string;
  parentId: string | null;
  role: SessionRole;
  label: string;
  status: SessionStatus;
  tags: string[];
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  lastActiveAt: string;
  depth: number;
  index: number;
  scope: string | null;
  turnCount: number;
  sourceSessionId: string | null;
  /** Next sibling index handed out under this session; indexes are never reused. */
  nextChildIndex: number;
  refs: string[];
  slots: Partial<Record<SlotKey, string>>;
  records: { seq: number; message: Message }[];
  /** The turn lease: who runs the session's turn and when the claim lapses (clock milliseconds). */
  lease: { owner: string; expiresAt: number } | null;
}

/** The whole state of one space. Plain data, so a transaction can clone it. */
export interface StoreState {
  rootId: string | null;
  sessions: Map<string, StoredSession>;
  globals: Map<string, unknown>;
  /** Next record sequence number; strictly increasing across the space. */
  nextSeq: number;
  /** The turn ledger: turn id → turn. */
  turns: TurnLedger;
}

/** The fields `InMemoryStore.updateSession` may change. */
export interface StoredSessionPatch {
  label?: string;
  status?: SessionStatus;
  tags?: string[];
  metadata?: Record<string, unknown>;
  scope?: string | null;
  /** Sets the stored turn count (core's `updateMeta`, as the original 0.2.x allowed). */
  turnCount?: number;
}

/** What `InMemoryStore.ensureRoot` writes when the space has no root yet. */
export interface RootInit {
  id?: string;
  label: string;
  status?: SessionStatus;
  tags?: string[];
  metadata?: Record<string, unknown>;
  createdAt?: string;
}

/** Outcome of `InMemoryStore.addRef`; the caller turns refusals into its own errors. */
export type AddRefOutcome = 'added' | 'exists' | 'missing' | 'self' | 'ancestor' | 'descendant';

/** Options of `InMemoryStore`. */
export interface InMemoryStoreOptions {
  /** Milliseconds since the epoch, for turn-lease expiry (default `Date.now`); tests may move time. */
  clock?: () => number;
}

/** One page of records, with the sequence number of its last record for the next cursor. */
export interface RecordPage {
  records: Message[];
  /** The sequence number of each record, in the same order. */
  seqs: number[];
  lastSeq: number | null;
  hasMore: boolean;
}

export function now(): string {
  return new Date().toISOString();
}

export function copy<T>(value: T): T {
  return structuredClone(value);
}

export function invalid(message: string, details?: Record<string, unknown>): SessionError {
  return new SessionError('INVALID_ARGUMENT', message, details ? { details } : undefined);
}

export function toRow(session: StoredSession): SessionRow {
  return {
    ...copySessionMeta(session),
    parentId: session.parentId,
    depth: session.depth,
    index: session.index,
    scope: session.scope,
    turnCount: session.turnCount,
    lastActiveAt: session.lastActiveAt,
    sourceSessionId: session.sourceSessionId,
  };
}

export function byDepthThenIndex(a: StoredSession, b: StoredSession): number {
  return a.depth - b.depth || a.index - b.index;
}

export function checkLabel(label: unknown): asserts label is string {
  if (typeof label !== 'string' || label.trim().length === 0)
    throw invalid('label must be a non-empty string');
}

export function checkRecords(records: unknown): asserts records is Message[] {
  if (!Array.isArray(records)) throw invalid('records must be an array');
  for (const record of records) {
    const candidate = record as Partial<Message> | null;
    if (
      candidate === null ||
      typeof candidate !== 'object' ||
      !['system', 'user', 'assistant', 'tool'].includes(candidate.role as string) ||
      typeof candidate.content !== 'string'
    ) {
      throw invalid('every record needs a role and a string content');
    }
  }
}

export function checkLease(lease: TurnLeaseClaim): void {
  if (typeof lease !== 'object' || lease === null) throw invalid('lease must be an object');
  checkOwner(lease.owner);
  checkTtl(lease.ttlMs);
}

export function checkOwner(owner: unknown): asserts owner is string {
  if (typeof owner !== 'string' || owner.length === 0)
    throw invalid('lease owner must be a non-empty string');
}

export function checkTtl(ttlMs: unknown): asserts ttlMs is number {
  if (!Number.isInteger(ttlMs) || (ttlMs as number) <= 0) {
    throw invalid('lease ttlMs must be a positive integer', { ttlMs });
  }
}

export function emptyState(): StoreState {
  return { rootId: null, sessions: new Map(), globals: new Map(), nextSeq: 1, turns: new Map() };
}
