import { SESSION_DATA_KEYS, toJsonbText } from '@stello-ai/db';
import type { Message, MessageRole, SlotKey } from '@stello-ai/session';
import { SessionError } from './domain-errors';

const MESSAGE_ROLES: ReadonlySet<string> = new Set<MessageRole>(['system', 'user', 'assistant', 'tool']);

const SLOT_KEYS: ReadonlySet<string> = new Set<SlotKey>(SESSION_DATA_KEYS);

function invalid(message: string, field: string): SessionError {
  return new SessionError('INVALID_ARGUMENT', message, { details: { field } });
}

/** Checks a string PostgreSQL can store: `text` columns cannot hold U+0000, so it is refused up front. */
export function assertText(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string') throw invalid(`${field} must be a string`, field);
  if (value.includes('\u0000')) throw invalid(`${field} must not contain NUL (U+0000) characters`, field);
}

/** Checks a session label: non-blank text. */
export function assertLabel(value: unknown, field = 'label'): asserts value is string {
  assertText(value, field);
  if (value.trim().length === 0) throw invalid(`${field} must be a non-empty string`, field);
}

/** Like `assertText`, for optional values: `null` and `undefined` pass. */
export function assertOptionalText(
  value: unknown,
  field: string,
): asserts value is string | null | undefined {
  if (value !== null && value !== undefined) assertText(value, field);
}

/**
 * Serializes `value` for a `jsonb` parameter. Refuses what `jsonb` cannot store (U+0000 in a
 * string or a key) and what JSON cannot express (cycles, BigInt), as `INVALID_ARGUMENT`.
 */
export function toJsonParam(value: unknown, field: string): string {
  const json = toJsonbText(value);
  if (json.ok) return json.text;
  throw json.problem === 'NUL_CHARACTER'
    ? invalid(`${field} must not contain NUL (U+0000) characters`, field)
    : invalid(`${field} must be JSON-serializable`, field);
}

/** Checks a plain-object JSON value (metadata). */
export function assertJsonObject(value: unknown, field: string): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${field} must be an object`, field);
  }
}

/** Checks a list of tags: strings without NUL. */
export function assertTags(value: unknown, field: string): asserts value is string[] {
  if (!Array.isArray(value)) throw invalid(`${field} must be an array of strings`, field);
  for (const tag of value) assertText(tag, field);
}

/** Checks a slot key against the fixed set of `session_data` keys. */
export function assertSlotKey(value: unknown): asserts value is SlotKey {
  if (typeof value !== 'string' || !SLOT_KEYS.has(value))
    throw invalid(`unknown slot key "${String(value)}"`, 'key');
}

/** Checks a non-negative safe integer (limits, offsets, counts). */
export function assertCount(value: unknown, field: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${field} must be a non-negative integer`, field);
  }
}

/** A record as the insert statements read it from their `jsonb` array parameter. */
interface RecordParam {
  role: string;
  content: string;
  tool_calls?: unknown;
  tool_call_id?: string;
  metadata?: Record<string, unknown>;
  timestamp?: string;
}

/**
 * Validates records and serializes them into the `jsonb` array the insert statements unpack, in order.
 * Absent optional fields are left out so they are stored as SQL `NULL`.
 */
export function toRecordsParam(records: readonly Message[], field = 'records'): string {
  if (!Array.isArray(records)) throw invalid(`${field} must be an array`, field);
  const rows: RecordParam[] = records.map((record, i) => {
    const at = `${field}[${i}]`;
    if (typeof record !== 'object' || record === null) throw invalid(`${at} must be an object`, at);
    if (!MESSAGE_ROLES.has(record.role))
      throw invalid(`${at}.role must be system, user, assistant or tool`, at);
    assertText(record.content, `${at}.content`);
    const row: RecordParam = { role: record.role, content: record.content };
    if (record.toolCalls !== undefined) {
      if (!Array.isArray(record.toolCalls)) throw invalid(`${at}.toolCalls must be an array`, at);
      row.tool_calls = record.toolCalls;
    }
    if (record.toolCallId !== undefined) {
      assertText(record.toolCallId, `${at}.toolCallId`);
      row.tool_call_id = record.toolCallId;
    }
    if (record.metadata !== undefined) {
      assertJsonObject(record.metadata, `${at}.metadata`);
      row.metadata = record.metadata;
    }
    if (record.timestamp !== undefined) {
      if (typeof record.timestamp !== 'string' || Number.isNaN(Date.parse(record.timestamp))) {
        throw invalid(`${at}.timestamp must be an ISO-8601 date`, at);
      }
      row.timestamp = record.timestamp;
    }
    return row;
  });
  return toJsonParam(rows, field);
}
