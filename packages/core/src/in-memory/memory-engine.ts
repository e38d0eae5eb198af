import { type InMemoryStore, type Message, SessionError, sessionNotFoundError } from '@stello-ai/session';
import type { AssembledContext, MemoryEngine, TurnRecord } from '../types';

const CURSOR_PREFIX = 'seq:';

function toTurnRecord(message: Message): TurnRecord {
  const record: TurnRecord = {
    role: message.role,
    content: message.content,
    timestamp: message.timestamp ?? new Date(0).toISOString(),
  };
  if (message.metadata !== undefined) record.metadata = message.metadata;
  if (message.toolCalls !== undefined) record.toolCalls = message.toolCalls;
  if (message.toolCallId !== undefined) record.toolCallId = message.toolCallId;
  return record;
}

function encodeCursor(seq: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${seq}`).toString('base64url');
}

/** A cursor this engine made, or a record's `id` (its sequence number in decimal). */
function decodeCursor(cursor: string, field: 'after' | 'before'): number {
  const text = /^\d{1,16}$/.test(cursor)
    ? `${CURSOR_PREFIX}${cursor}`
    : Buffer.from(cursor, 'base64url').toString('utf8');
  const seq = text.startsWith(CURSOR_PREFIX) ? Number(text.slice(CURSOR_PREFIX.length)) : Number.NaN;
  if (!Number.isSafeInteger(seq) || seq < 0) {
    throw new SessionError('INVALID_ARGUMENT', 'invalid record cursor', { details: { field, cursor } });
  }
  return seq;
}

/**
 * The in-memory `MemoryEngine`: a view over an `InMemoryStore` (one space). L1 core data is the
 * store's globals (the same data as `MainStorage.getGlobal`), slots and records are the
 * sessions' own.
 */
export class InMemoryMemoryEngine implements MemoryEngine {
  readonly #store: InMemoryStore;

  constructor(store: InMemoryStore) {
    this.#store = store;
  }

  /** With a key: its value or `null`; without: every key as one object. */
  async readCore(path?: string): Promise<unknown> {
    return path === undefined ? this.#store.globals() : this.#store.getGlobal(path);
  }

  async writeCore(path: string, value: unknown): Promise<void> {
    await this.#store.putGlobal(path, value);
  }

  async readMemory(sessionId: string): Promise<string | null> {
    return this.#store.getSlot(sessionId, 'memory');
  }

  async writeMemory(sessionId: string, content: string): Promise<void> {
    await this.#store.putSlot(sessionId, 'memory', content);
  }

  async readScope(sessionId: string): Promise<string | null> {
    return this.#store.getSlot(sessionId, 'scope');
  }

  async writeScope(sessionId: string, content: string): Promise<void> {
    await this.#store.putSlot(sessionId, 'scope', content);
  }

  async readIndex(sessionId: string): Promise<string | null> {
    return this.#store.getSlot(sessionId, 'index');
  }

  async writeIndex(sessionId: string, content: string): Promise<void> {
    await this.#store.putSlot(sessionId, 'index', content);
  }

  async appendRecord(sessionId: string, record: TurnRecord): Promise<void> {
    await this.#store.appendRecords(sessionId, [record]);
  }

  async replaceRecords(sessionId: string, records: TurnRecord[]): Promise<void> {
    await this.#store.replaceRecords(sessionId, records);
  }

  async readRecords(sessionId: string): Promise<TurnRecord[]> {
    return this.#store.listRecords(sessionId).map(toTurnRecord);
  }

  /**
   * One page after an opaque cursor, or, with `before`, the newest records older than it (still
   * oldest first). Each record carries its `id`. Throws `INVALID_ARGUMENT` for a bad cursor or limit.
   */
  async readRecordPage(
    sessionId: string,
    options: { limit: number; after?: string | null; before?: string | null },
  ): Promise<{ records: TurnRecord[]; nextCursor: string | null; prevCursor?: string | null }> {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new SessionError('INVALID_ARGUMENT', 'limit must be a positive integer', {
        details: { limit: options.limit },
      });
    }
    if (options.after != null && options.before != null) {
      throw new SessionError('INVALID_ARGUMENT', 'give `after` or `before`, not both', {
        details: { field: 'before' },
      });
    }
    const afterSeq = options.after ? decodeCursor(options.after, 'after') : null;
    const beforeSeq = options.before ? decodeCursor(options.before, 'before') : null;
    const page = this.#store.recordPage(sessionId, { limit: options.limit, afterSeq, beforeSeq });
    const records = page.records.map((message, i) => ({
      id: String(page.seqs[i]),
      ...toTurnRecord(message),
    }));
    if (beforeSeq !== null) {
      const first = page.seqs[0];
      return {
        records,
        nextCursor: null,
        prevCursor: page.hasMore && first !== undefined ? encodeCursor(first) : null,
      };
    }
    return {
      records,
      nextCursor: page.hasMore && page.lastSeq !== null ? encodeCursor(page.lastSeq) : null,
    };
  }

  /**
   * L1 core data, the ancestors' L2 (parent first, empty ones skipped), the session's own memory
   * and its scope slot. Throws `SESSION_NOT_FOUND`.
   */
  async assembleContext(sessionId: string): Promise<AssembledContext> {
    const row = this.#store.getRow(sessionId);
    if (!row) throw sessionNotFoundError(sessionId);
    const memories: string[] = [];
    let parentId = row.parentId;
    while (parentId !== null) {
      const parent = this.#store.getRow(parentId);
      if (!parent) break;
      const memory = this.#store.getSlot(parent.id, 'memory');
      if (memory !== null && memory.trim().length > 0) memories.push(memory);
      parentId = parent.parentId;
    }
    return {
      core: this.#store.globals(),
      memories,
      currentMemory: this.#store.getSlot(sessionId, 'memory'),
      scope: this.#store.getSlot(sessionId, 'scope'),
    };
  }
}
