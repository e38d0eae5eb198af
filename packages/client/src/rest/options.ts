/** Options every call takes. */
export interface CallOptions {
  /** Aborts the request; the call rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/** One page of a paged list. */
export interface Page<TItem> {
  items: TItem[];
  /** The cursor of the next page (`after`), `null` on the last page. */
  nextCursor: string | null;
}

/** Paging parameters of the list routes. */
export interface PageOptions extends CallOptions {
  /** Items per page (1–1000). */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  after?: string;
}

/** Header carrying the next page's cursor (transport's `NEXT_CURSOR_HEADER`). */
export const NEXT_CURSOR_HEADER = 'X-Next-Cursor';

/** A space in a path. */
export interface SpaceRef extends CallOptions {
  spaceId: string;
}

/** A session in a path. */
export interface SessionRef extends SpaceRef {
  sessionId: string;
}

/** A turn in a path. */
export interface TurnRef extends SessionRef {
  turnId: string;
}

/** `/spaces/:spaceId/sessions/:sessionId`, ids encoded. */
export function sessionPath(ref: { spaceId: string; sessionId: string }): string {
  return `/spaces/${encodeURIComponent(ref.spaceId)}/sessions/${encodeURIComponent(ref.sessionId)}`;
}
