import { SessionError } from '@stello-ai/session';
import type {
  SessionInfo,
  SessionListFilter,
  SessionListOptions,
  SessionListPage,
  SessionTree,
} from '../types';

// A session listing pages with a keyset cursor on (depth, index, id): the order of `listInfo`,
// made total by the id. Every part of the key is fixed when the session is created (only a move
// by `MainStorage.putNode` changes it), so a page boundary never moves: paging neither skips nor
// repeats a session that existed when it began, whatever is forked meanwhile.

/** The position of a session in a listing's order. */
export interface SessionCursorKey {
  depth: number;
  index: number;
  id: string;
}

const CURSOR_PATTERN =
  /^s1:(\d{1,9}):(\d{1,9}):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** The opaque cursor of the position just after `key`. */
export function encodeSessionCursor(key: SessionCursorKey): string {
  return Buffer.from(`s1:${key.depth}:${key.index}:${key.id.toLowerCase()}`, 'utf8').toString('base64url');
}

/**
 * The position an opaque session cursor names.
 *
 * @throws SessionError `INVALID_ARGUMENT` for a cursor `encodeSessionCursor` did not make
 */
export function decodeSessionCursor(cursor: string): SessionCursorKey {
  const text = /^[A-Za-z0-9_-]{1,128}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = CURSOR_PATTERN.exec(text);
  if (!match) {
    throw new SessionError('INVALID_ARGUMENT', 'invalid sessions cursor', { details: { field: 'after' } });
  }
  return { depth: Number(match[1]), index: Number(match[2]), id: match[3] as string };
}

/** Orders two positions as the listing does: depth, then index, then id. */
export function compareSessionKeys(a: SessionCursorKey, b: SessionCursorKey): number {
  if (a.depth !== b.depth) return a.depth - b.depth;
  if (a.index !== b.index) return a.index - b.index;
  const left = a.id.toLowerCase();
  const right = b.id.toLowerCase();
  return left < right ? -1 : left > right ? 1 : 0;
}

/** @throws SessionError `INVALID_ARGUMENT` for a limit that is not a positive integer */
function assertListLimit(limit: unknown): asserts limit is number {
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    throw new SessionError('INVALID_ARGUMENT', 'limit must be a positive integer', {
      details: { field: 'limit' },
    });
  }
}

function matches(info: SessionInfo, filter: SessionListFilter): boolean {
  if (filter.status !== undefined && info.status !== filter.status) return false;
  if (filter.tags?.some((tag) => !info.tags.includes(tag))) return false;
  if (filter.labelPrefix !== undefined && !info.label.startsWith(filter.labelPrefix)) return false;
  for (const [key, values] of Object.entries(filter.metadata ?? {})) {
    if (!Object.hasOwn(info.metadata, key)) return false;
    if (!values.some((value) => info.metadata[key] === value)) return false;
  }
  return true;
}

/**
 * One page of `infos` (a whole listing, in any order) under `options`: the reference behaviour
 * of `SessionTree.listPage`, for trees that hold every session in memory.
 *
 * @throws SessionError `INVALID_ARGUMENT` for a bad limit or cursor
 */
export function pageSessionInfos(infos: SessionInfo[], options: SessionListOptions): SessionListPage {
  assertListLimit(options.limit);
  const after = options.after == null ? null : decodeSessionCursor(options.after);
  const rest = infos
    .filter((info) => matches(info, options) && (after === null || compareSessionKeys(info, after) > 0))
    .sort(compareSessionKeys);
  const sessions = rest.slice(0, options.limit);
  const last = sessions.at(-1);
  return { sessions, nextCursor: rest.length > sessions.length && last ? encodeSessionCursor(last) : null };
}

/**
 * One page of a tree's sessions: the tree's own `listPage` when it has one (one bounded query),
 * else its whole `listInfo`, filtered and cut here.
 */
export async function listSessionPage(
  tree: Pick<SessionTree, 'listInfo' | 'listPage'>,
  options: SessionListOptions,
): Promise<SessionListPage> {
  if (tree.listPage) return tree.listPage(options);
  return pageSessionInfos(await tree.listInfo(), options);
}
