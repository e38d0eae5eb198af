import { copySessionMeta } from '../copy-session-meta';
import type { SessionRow, TurnContextData } from '../storage';
import type { ListRecordsOptions, Message, SessionMeta, SlotKey } from '../types';
import { byDepthThenIndex, copy, type RecordPage, type StoreState, toRow } from './store-support';

// Reads

/** The stored row, or `null`. */
export function getRow(state: StoreState, id: string): SessionRow | null {
  const session = state.sessions.get(id);
  return session ? toRow(session) : null;
}

/** The session-package meta, or `null`. */
export function getMeta(state: StoreState, id: string): SessionMeta | null {
  const session = state.sessions.get(id);
  return session ? copySessionMeta(session) : null;
}

/** Every row, ordered by depth then index. */
export function listRows(state: StoreState): SessionRow[] {
  return [...state.sessions.values()].sort(byDepthThenIndex).map(toRow);
}

/** Ids of the direct children, ordered by index; `[]` for an unknown id. */
export function childIds(state: StoreState, id: string): string[] {
  return [...state.sessions.values()]
    .filter((session) => session.parentId === id)
    .sort(byDepthThenIndex)
    .map((session) => session.id);
}

/** Ids this session references, in the order they were added; `[]` for an unknown id. */
export function refs(state: StoreState, id: string): string[] {
  return [...(state.sessions.get(id)?.refs ?? [])];
}

/** A slot's content; `null` when the slot or the session is missing. */
export function getSlot(state: StoreState, id: string, key: SlotKey): string | null {
  return state.sessions.get(id)?.slots[key] ?? null;
}

/** Records oldest first; the role filter applies before offset and limit. `[]` for an unknown id. */
export function listRecords(state: StoreState, id: string, options: ListRecordsOptions = {}): Message[] {
  let records = (state.sessions.get(id)?.records ?? []).map((entry) => entry.message);
  if (options.role) records = records.filter((record) => record.role === options.role);
  const offset = Math.max(0, options.offset ?? 0);
  const end = options.limit === undefined ? undefined : offset + Math.max(0, options.limit);
  return copy(records.slice(offset, end));
}

/** Up to `limit` records above `afterSeq`, oldest first; with `beforeSeq`, the newest `limit` below it, oldest first. */
export function recordPage(
  state: StoreState,
  id: string,
  options: { limit: number; afterSeq?: number | null; beforeSeq?: number | null },
): RecordPage {
  const all = state.sessions.get(id)?.records ?? [];
  const limit = Math.max(0, options.limit);
  const before = options.beforeSeq;
  let page: { seq: number; message: Message }[];
  let hasMore: boolean;
  if (before !== undefined && before !== null) {
    // Backwards: the newest `limit` records below `beforeSeq`, still oldest first.
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
export function loadTurnContext(state: StoreState, id: string, maxRecords: number): TurnContextData | null {
  const session = state.sessions.get(id);
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

/** A global value, or `null`. */
export function getGlobal(state: StoreState, key: string): unknown {
  return state.globals.has(key) ? copy(state.globals.get(key)) : null;
}

/** Every global, as one object. */
export function globals(state: StoreState): Record<string, unknown> {
  return copy(Object.fromEntries(state.globals));
}
