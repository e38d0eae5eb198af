import { SessionError } from './domain-errors';

// The cursor of a session listing: the (depth, index, id) of the page's last session. The same
// format as core's `encodeSessionCursor`, written here because `@stello-ai/core` is a peer that may
// be the original 0.2.x, which has no such function.

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

/** @throws SessionError `INVALID_ARGUMENT` for a cursor `encodeSessionCursor` did not make */
export function decodeSessionCursor(cursor: string): SessionCursorKey {
  const text = /^[A-Za-z0-9_-]{1,128}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = CURSOR_PATTERN.exec(text);
  if (!match) {
    throw new SessionError('INVALID_ARGUMENT', 'invalid sessions cursor', { details: { field: 'after' } });
  }
  return { depth: Number(match[1]), index: Number(match[2]), id: match[3] as string };
}
