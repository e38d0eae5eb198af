import {
  encodeSessionCursor,
  listSessionPage,
  type SessionInfo,
  type SessionListFilter,
  type StelloAgent,
  type TurnRecord,
} from '@stello-ai/core';
import type { Space } from '@stello-ai/runtime';
import type { TransportSpaceStore } from '../types';

// A list route reads in small chunks and stops at a byte budget, so one request can neither load
// a whole history nor build a response of hundreds of megabytes. What was left out is reachable
// through the next-page cursor.

/** Default page size of list routes called without `limit`. */
export const DEFAULT_LIST_PAGE_SIZE = 100;
/** Default byte budget of one list response (JSON of its items): 4 MiB. */
export const DEFAULT_LIST_BYTES = 4 * 1024 * 1024;
/** Items read from the database per chunk. */
const CHUNK = 25;
/** Sessions read per chunk: small rows, and a space's whole list is the common request. */
const SESSION_CHUNK = 100;

/** One budgeted page: the items, and the cursor of what follows (`null` at the end). */
export interface BudgetedPage<TItem> {
  items: TItem[];
  nextCursor: string | null;
}

/** One budgeted page read backwards: the items (oldest first), and the cursor of what precedes them. */
export interface BudgetedOlderPage<TItem> {
  items: TItem[];
  prevCursor: string | null;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/**
 * Up to `limit` spaces of `userId` after `after`, stopping once their JSON reaches `budgetBytes`
 * (always at least one space). Reads `CHUNK` spaces per query.
 */
export async function budgetedSpaces(
  spaces: Pick<TransportSpaceStore, 'listSpaces'>,
  userId: string,
  options: { limit: number; after?: string; budgetBytes: number },
): Promise<BudgetedPage<Space>> {
  const items: Space[] = [];
  let bytes = 0;
  let after = options.after;
  for (;;) {
    const want = Math.min(CHUNK, options.limit - items.length);
    // One more than wanted tells whether anything follows.
    const chunk = await spaces.listSpaces(userId, { limit: want + 1, ...(after !== undefined && { after }) });
    const more = chunk.length > want;
    for (const space of chunk.slice(0, want)) {
      if (items.length > 0 && bytes + jsonBytes(space) > options.budgetBytes) {
        return { items, nextCursor: items.at(-1)?.id ?? null };
      }
      items.push(space);
      bytes += jsonBytes(space);
    }
    const last = items.at(-1);
    if (!more || !last) return { items, nextCursor: null };
    if (items.length >= options.limit) return { items, nextCursor: last.id };
    after = last.id;
  }
}

/**
 * Up to `limit` records of a session after the cursor `after`, oldest first, stopping at the end
 * of the chunk in which their JSON reached `budgetBytes`: a response may pass the budget by at
 * most one chunk of records.
 */
export async function budgetedRecords<TView>(
  agent: Pick<StelloAgent, 'memory'>,
  sessionId: string,
  view: (record: TurnRecord) => TView,
  options: { limit: number; after: string | null; budgetBytes: number },
): Promise<BudgetedPage<TView>> {
  const items: TView[] = [];
  let bytes = 0;
  let cursor = options.after;
  while (items.length < options.limit) {
    const page = await agent.memory.readRecordPage(sessionId, {
      limit: Math.min(CHUNK, options.limit - items.length),
      after: cursor,
    });
    for (const record of page.records) {
      const item = view(record);
      items.push(item);
      bytes += jsonBytes(item);
    }
    cursor = page.nextCursor;
    if (cursor === null || bytes >= options.budgetBytes) break;
  }
  return { items, nextCursor: cursor };
}

/**
 * Up to `limit` sessions of the agent's tree that pass `filter`, after the cursor `after`, by
 * depth, index and id, stopping before the session whose JSON would pass `budgetBytes` (always at
 * least one session). Reads `SESSION_CHUNK` sessions per query.
 */
export async function budgetedSessions(
  agent: Pick<StelloAgent, 'sessions'>,
  filter: SessionListFilter,
  options: { limit: number; after: string | null; budgetBytes: number },
): Promise<BudgetedPage<SessionInfo>> {
  const items: SessionInfo[] = [];
  let bytes = 0;
  let cursor = options.after;
  while (items.length < options.limit) {
    const page = await listSessionPage(agent.sessions, {
      ...filter,
      limit: Math.min(SESSION_CHUNK, options.limit - items.length),
      after: cursor,
    });
    for (const session of page.sessions) {
      const size = jsonBytes(session);
      const last = items.at(-1);
      if (last && bytes + size > options.budgetBytes) return { items, nextCursor: encodeSessionCursor(last) };
      items.push(session);
      bytes += size;
    }
    cursor = page.nextCursor;
    if (cursor === null) break;
  }
  return { items, nextCursor: cursor };
}

/**
 * Up to `limit` records of a session older than the cursor `before`, oldest first: the newest
 * ones, read backwards chunk by chunk until their JSON reaches `budgetBytes` (passing it by at most
 * one chunk). `prevCursor` reads on backwards; `null` when nothing older remains.
 */
export async function budgetedOlderRecords<TView>(
  agent: Pick<StelloAgent, 'memory'>,
  sessionId: string,
  view: (record: TurnRecord) => TView,
  options: { limit: number; before: string; budgetBytes: number },
): Promise<BudgetedOlderPage<TView>> {
  // Chunks arrive newest first; they are joined once at the end.
  const chunks: TView[][] = [];
  let count = 0;
  let bytes = 0;
  let cursor: string | null = options.before;
  while (count < options.limit) {
    const page = await agent.memory.readRecordPage(sessionId, {
      limit: Math.min(CHUNK, options.limit - count),
      before: cursor,
    });
    const chunk = page.records.map(view);
    for (const item of chunk) bytes += jsonBytes(item);
    chunks.push(chunk);
    count += chunk.length;
    // An engine that ignores `before` returns no `prevCursor`: stop rather than loop.
    cursor = page.prevCursor ?? null;
    if (cursor === null || bytes >= options.budgetBytes) break;
  }
  return { items: chunks.reverse().flat(), prevCursor: cursor };
}
