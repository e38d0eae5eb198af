/** The in-memory store's writes of the session tree: root, children, fields, refs, moves, removals. */
import { randomUUID } from 'node:crypto';
import { SessionArchivedError, sessionNotFoundError } from '../errors';
import type { ChildSessionSpec, SessionRow } from '../storage';
import type { SessionStatus } from '../types';
import { appendEntries } from './store-content-writes';
import {
  type AddRefOutcome,
  byDepthThenIndex,
  checkLabel,
  checkRecords,
  copy,
  invalid,
  now,
  type RootInit,
  type StoredSession,
  type StoredSessionPatch,
  type StoreState,
  toRow,
} from './store-support';

// Writes

/** Creates the root when the space has none; returns the root and whether it was created now. */
export function ensureRoot(state: StoreState, init: RootInit): { row: SessionRow; created: boolean } {
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
}

/** Creates a child under an active parent; see `SessionStorage.createChild`. */
export function createChild(
  state: StoreState,
  parentId: string,
  spec: ChildSessionSpec,
  fixed: { id?: string; status?: SessionStatus } = {},
): SessionRow {
  if (fixed.id !== undefined && state.sessions.has(fixed.id))
    throw invalid(`session id "${fixed.id}" is taken`);
  const parent = state.sessions.get(parentId);
  if (!parent) throw sessionNotFoundError(parentId);
  if (parent.status === 'archived') throw new SessionArchivedError(parentId);
  checkLabel(spec.label);
  const records = spec.records ?? [];
  checkRecords(records);
  const at = now();
  const systemPrompt = spec.systemPrompt === undefined ? parent.slots.system_prompt : spec.systemPrompt;
  const child: StoredSession = {
    id: fixed.id ?? randomUUID(),
    parentId,
    role: 'standard',
    label: spec.label,
    status: fixed.status ?? 'active',
    tags: [...(spec.tags ?? [])],
    metadata: copy(spec.metadata ?? {}),
    createdAt: at,
    updatedAt: at,
    lastActiveAt: at,
    depth: parent.depth + 1,
    index: parent.nextChildIndex,
    scope: spec.scope ?? null,
    turnCount: 0,
    // The original 0.2.x orchestrator passed the provenance in `metadata.sourceSessionId`.
    sourceSessionId:
      (spec.sourceSessionId !== undefined ? spec.sourceSessionId : legacySourceId(spec.metadata)) ?? null,
    nextChildIndex: 0,
    refs: [],
    slots: typeof systemPrompt === 'string' ? { system_prompt: systemPrompt } : {},
    records: [],
    lease: null,
  };
  parent.nextChildIndex += 1;
  appendEntries(state, child, records, at);
  state.sessions.set(child.id, child);
  return toRow(child);
}

function legacySourceId(metadata: Record<string, unknown> | undefined): string | undefined {
  const id = metadata?.sourceSessionId;
  return typeof id === 'string' ? id : undefined;
}

/** Changes the given fields and moves `updatedAt`. Throws `SESSION_NOT_FOUND`. */
export function updateSession(state: StoreState, id: string, patch: StoredSessionPatch): SessionRow {
  const session = state.sessions.get(id);
  if (!session) throw sessionNotFoundError(id);
  if (patch.label !== undefined) checkLabel(patch.label);
  if (patch.turnCount !== undefined && (!Number.isSafeInteger(patch.turnCount) || patch.turnCount < 0)) {
    throw invalid('turnCount must be a non-negative integer');
  }
  if (patch.status !== undefined && patch.status !== 'active' && patch.status !== 'archived') {
    throw invalid(`unknown status "${String(patch.status)}"`);
  }
  if (patch.label !== undefined) session.label = patch.label;
  if (patch.status !== undefined) session.status = patch.status;
  if (patch.tags !== undefined) session.tags = [...patch.tags];
  if (patch.metadata !== undefined) session.metadata = copy(patch.metadata);
  if (patch.scope !== undefined) session.scope = patch.scope;
  if (patch.turnCount !== undefined) session.turnCount = patch.turnCount;
  session.updatedAt = now();
  return toRow(session);
}

/** Adds a ref unless it would point at itself, an ancestor or a descendant; idempotent. */
export function addRef(state: StoreState, fromId: string, toId: string): AddRefOutcome {
  const from = state.sessions.get(fromId);
  if (!from || !state.sessions.has(toId)) return 'missing';
  if (fromId === toId) return 'self';
  if (isAncestor(state, toId, fromId)) return 'ancestor';
  if (isAncestor(state, fromId, toId)) return 'descendant';
  if (from.refs.includes(toId)) return 'exists';
  from.refs.push(toId);
  return 'added';
}

/**
 * Renames a session and, when `parentId` changes, moves it (with its subtree) under the new
 * parent at the next free index, recomputing depths. The root stays the root.
 */
export function moveSession(state: StoreState, id: string, parentId: string | null, label: string): void {
  const session = state.sessions.get(id);
  if (!session) throw sessionNotFoundError(id);
  checkLabel(label);
  if (session.parentId !== parentId) {
    if (parentId === null || session.parentId === null) throw invalid('the root cannot be moved or replaced');
    const parent = state.sessions.get(parentId);
    if (!parent) throw sessionNotFoundError(parentId);
    if (parentId === id || isAncestor(state, id, parentId)) {
      throw invalid(`session "${id}" cannot move under its own subtree`);
    }
    session.parentId = parentId;
    session.index = parent.nextChildIndex;
    parent.nextChildIndex += 1;
    setDepth(state, session, parent.depth + 1);
  }
  session.label = label;
  session.updatedAt = now();
}

/** Deletes a session and its subtree (records, slots, refs to them). The root cannot be removed. */
export function removeSubtree(state: StoreState, id: string): void {
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
}

/** True when `ancestorId` is a strict ancestor of `id`. */
export function isAncestor(state: StoreState, ancestorId: string, id: string): boolean {
  let current = state.sessions.get(id)?.parentId ?? null;
  while (current !== null) {
    if (current === ancestorId) return true;
    current = state.sessions.get(current)?.parentId ?? null;
  }
  return false;
}

export function setDepth(state: StoreState, session: StoredSession, depth: number): void {
  session.depth = depth;
  for (const child of state.sessions.values()) {
    if (child.parentId === session.id) setDepth(state, child, depth + 1);
  }
}
