import { SESSION_DATA_KEYS } from '@stello-ai/db';
import { SessionError } from '@stello-ai/session';
import { z } from 'zod';
import { StorageError } from '../errors';

/** The `format` of every subtree document. */
export const SUBTREE_FORMAT = 'stello.subtree';
/** The `version` of the document shape this package writes and reads. */
export const SUBTREE_VERSION = 1;

/** Default bound on the sessions of one export or import. */
export const DEFAULT_SUBTREE_MAX_SESSIONS = 1_000;
/** Default bound on the records of one export or import. */
export const DEFAULT_SUBTREE_MAX_RECORDS = 50_000;
/** Default bound on the bytes of one export or import: 64 MiB. */
export const DEFAULT_SUBTREE_MAX_BYTES = 64 * 1024 * 1024;

/** Bounds of one subtree export or import; past any of them nothing is read or written (`SUBTREE_TOO_LARGE`). */
export interface SubtreeLimits {
  /** Most sessions (default 1,000). */
  maxSessions?: number;
  /** Most records, all sessions together (default 50,000). */
  maxRecords?: number;
  /**
   * Most bytes (default 64 MiB): of the document's JSON on import; on export, of the stored text
   * (record contents, tool calls and metadata, slot contents), measured before anything is read.
   */
  maxBytes?: number;
}

/** `SubtreeLimits` with every default filled in. */
export type ResolvedSubtreeLimits = Required<SubtreeLimits>;

/** One record of a subtree document, in its session's order. Absent optional fields were `NULL`. */
export interface SubtreeRecord {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  toolCalls?: unknown[];
  toolCallId?: string;
  metadata?: Record<string, unknown>;
  /** ISO-8601, kept by an import (it is when the message was said, not when it was copied). */
  timestamp: string;
}

/** The named text slots of a session (prompt, memory, insight, …), by `session_data` key. */
export type SubtreeSlots = Partial<Record<(typeof SESSION_DATA_KEYS)[number], string>>;

/**
 * One session of a subtree document. Ids are relative to the document (`s0`, `s1`, … on export),
 * never database ids, so a document can be imported anywhere, any number of times.
 */
export interface SubtreeSession {
  /** Relative id, unique in the document. */
  id: string;
  /** Relative id of the parent; `null` exactly for the first session, the subtree's root. */
  parentId: string | null;
  /** Position among its siblings (the root's is 0: an import gives it the next one under its new parent). */
  index: number;
  /** The index its next child gets; greater than every child's index. */
  nextChildIndex: number;
  label: string;
  status: 'active' | 'archived';
  scope: string | null;
  turnCount: number;
  tags: string[];
  metadata: Record<string, unknown>;
  /** Relative id of the session this one was forked from, when that session is in the document. */
  sourceSessionId: string | null;
  /** Relative ids this session references (only those inside the document). */
  refs: string[];
  slots: SubtreeSlots;
  records: SubtreeRecord[];
}

/**
 * A subtree as JSON: sessions parents first (by depth, then index), each with its slots, refs and
 * records. Written by `PgSubtreeStore.exportSubtree`, read by `importSubtree`. Session timestamps
 * are not part of it (an import is a new session); record timestamps are.
 */
export interface SubtreeDocument {
  format: typeof SUBTREE_FORMAT;
  version: typeof SUBTREE_VERSION;
  sessions: SubtreeSession[];
}

/** Fills the defaults of `limits` and checks that each is a positive integer. */
export function resolveSubtreeLimits(limits: SubtreeLimits = {}): ResolvedSubtreeLimits {
  const resolved = {
    maxSessions: limits.maxSessions ?? DEFAULT_SUBTREE_MAX_SESSIONS,
    maxRecords: limits.maxRecords ?? DEFAULT_SUBTREE_MAX_RECORDS,
    maxBytes: limits.maxBytes ?? DEFAULT_SUBTREE_MAX_BYTES,
  };
  for (const [field, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new SessionError('INVALID_ARGUMENT', `${field} must be a positive integer`, {
        details: { field },
      });
    }
  }
  return resolved;
}

/** The error of a subtree over one of its bounds. */
export function subtreeTooLarge(limit: keyof SubtreeLimits, max: number, actual: number): StorageError {
  return new StorageError(
    'SUBTREE_TOO_LARGE',
    `the subtree has ${actual} ${limitUnit(limit)}, over the limit of ${max}`,
    {
      details: { limit, max, actual },
    },
  );
}

function limitUnit(limit: keyof SubtreeLimits): string {
  if (limit === 'maxSessions') return 'sessions';
  if (limit === 'maxRecords') return 'records';
  return 'bytes';
}

// PostgreSQL `text` cannot hold U+0000; refusing it here keeps the import's statement from failing halfway.
const text = z
  .string()
  .refine((value) => !value.includes('\u0000'), 'must not contain NUL (U+0000) characters');
const relativeId = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, "_", "." or "-"');
const count = z.number().int().nonnegative().max(2_147_483_647);
const jsonObject = z.record(z.string(), z.unknown());

const recordSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: text,
  toolCalls: z.array(z.unknown()).optional(),
  toolCallId: text.optional(),
  metadata: jsonObject.optional(),
  timestamp: z.iso.datetime({ offset: true }),
});

const slotsSchema = z.partialRecord(z.enum(SESSION_DATA_KEYS), text);

const sessionSchema = z.strictObject({
  id: relativeId,
  parentId: relativeId.nullable(),
  index: count,
  nextChildIndex: count,
  label: text.refine((value) => value.trim().length > 0, 'must not be blank'),
  status: z.enum(['active', 'archived']),
  scope: text.nullable(),
  turnCount: count,
  tags: z.array(text),
  metadata: jsonObject,
  sourceSessionId: relativeId.nullable(),
  refs: z.array(relativeId),
  slots: slotsSchema,
  records: z.array(recordSchema),
});

// Bounds are checked on the raw value before the full parse, so a huge document costs no deep validation.
const envelopeSchema = z.object({
  format: z.literal(SUBTREE_FORMAT),
  version: z.literal(SUBTREE_VERSION),
  sessions: z.array(z.object({ records: z.array(z.unknown()).optional() }).loose()).min(1),
});

const documentSchema = z.strictObject({
  format: z.literal(SUBTREE_FORMAT),
  version: z.literal(SUBTREE_VERSION),
  sessions: z.array(sessionSchema).min(1),
});

function invalid(path: string, message: string): SessionError {
  return new SessionError('INVALID_ARGUMENT', `invalid subtree document: ${path}: ${message}`, {
    details: { field: path },
  });
}

function fromZod(error: z.ZodError): SessionError {
  const issue = error.issues[0];
  const path = ['document', ...(issue?.path ?? [])]
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join('');
  return invalid(path, issue?.message ?? 'invalid');
}

/**
 * Checks `value` as a subtree document within `limits` and returns it typed. Shape (zod), then
 * the tree: unique ids, the root first and alone without a parent, every parent before its
 * children, sibling indexes unique and below the parent's `nextChildIndex`, refs and sources
 * inside the document, no ref between a session and its own lineage.
 *
 * @throws StorageError `SUBTREE_TOO_LARGE` past a bound; SessionError `INVALID_ARGUMENT` (with
 *   `details.field`, the path of the first problem) for anything else
 */
export function parseSubtreeDocument(value: unknown, limits: ResolvedSubtreeLimits): SubtreeDocument {
  const envelope = envelopeSchema.safeParse(value);
  if (!envelope.success) throw fromZod(envelope.error);
  const { sessions } = envelope.data;
  if (sessions.length > limits.maxSessions)
    throw subtreeTooLarge('maxSessions', limits.maxSessions, sessions.length);
  const records = sessions.reduce((sum, session) => sum + (session.records?.length ?? 0), 0);
  if (records > limits.maxRecords) throw subtreeTooLarge('maxRecords', limits.maxRecords, records);
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > limits.maxBytes) throw subtreeTooLarge('maxBytes', limits.maxBytes, bytes);

  const parsed = documentSchema.safeParse(value);
  if (!parsed.success) throw fromZod(parsed.error);
  assertTree(parsed.data.sessions);
  return parsed.data as SubtreeDocument;
}

/** The tree rules of `parseSubtreeDocument`, on a shape-valid list of sessions. */
function assertTree(sessions: readonly SubtreeSession[]): void {
  const parents = new Map<string, string | null>();
  const childIndexes = new Map<string, Set<number>>();
  sessions.forEach((session, i) => {
    const at = `document.sessions[${i}]`;
    if (parents.has(session.id)) throw invalid(`${at}.id`, `"${session.id}" appears twice`);
    if (i === 0 && session.parentId !== null)
      throw invalid(`${at}.parentId`, 'the first session is the root: null');
    if (i > 0) {
      if (session.parentId === null) throw invalid(`${at}.parentId`, 'only the first session has no parent');
      if (!parents.has(session.parentId)) {
        throw invalid(`${at}.parentId`, `"${session.parentId}" is not an earlier session of the document`);
      }
      const siblings = childIndexes.get(session.parentId) ?? new Set<number>();
      if (siblings.has(session.index)) throw invalid(`${at}.index`, `${session.index} is taken by a sibling`);
      siblings.add(session.index);
      childIndexes.set(session.parentId, siblings);
    }
    parents.set(session.id, session.parentId);
  });
  const byId = new Map(sessions.map((session) => [session.id, session]));
  sessions.forEach((session, i) => {
    const at = `document.sessions[${i}]`;
    for (const index of childIndexes.get(session.id) ?? []) {
      if (index >= session.nextChildIndex) {
        throw invalid(`${at}.nextChildIndex`, `must be greater than every child's index (${index})`);
      }
    }
    if (session.sourceSessionId !== null && !byId.has(session.sourceSessionId)) {
      throw invalid(`${at}.sourceSessionId`, `"${session.sourceSessionId}" is not a session of the document`);
    }
    const seen = new Set<string>();
    session.refs.forEach((ref, j) => {
      const refAt = `${at}.refs[${j}]`;
      if (!byId.has(ref)) throw invalid(refAt, `"${ref}" is not a session of the document`);
      if (seen.has(ref)) throw invalid(refAt, `"${ref}" appears twice`);
      seen.add(ref);
      if (isAncestorOrSelf(parents, ref, session.id) || isAncestorOrSelf(parents, session.id, ref)) {
        throw invalid(refAt, 'a session cannot reference itself, an ancestor or a descendant');
      }
    });
  });
}

/** True when `ancestor` is `id` or on its parent chain. */
function isAncestorOrSelf(
  parents: ReadonlyMap<string, string | null>,
  ancestor: string,
  id: string,
): boolean {
  for (let at: string | null | undefined = id; at != null; at = parents.get(at)) {
    if (at === ancestor) return true;
  }
  return false;
}
