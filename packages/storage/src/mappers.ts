import type {
  SessionMeta as CoreSessionMeta,
  SessionInfo,
  SessionTreeNode,
  TopologyNode,
  TurnRecord,
} from '@stello-ai/core';
import type {
  Message,
  SessionMeta,
  SessionRole,
  SessionRow,
  SessionStatus,
  ToolCall,
} from '@stello-ai/session';

/**
 * A `sessions` row as the storage statements select it. Timestamps are `Date`s from a plain
 * select and strings from `json_agg`; the mappers accept both.
 */
export interface SessionDbRow {
  id: string;
  parent_id: string | null;
  label: string;
  role: SessionRole;
  status: SessionStatus;
  scope: string | null;
  depth: number;
  index: number;
  turn_count: number;
  tags: string[];
  metadata: Record<string, unknown> | null;
  source_session_id: string | null;
  created_at: Date | string;
  updated_at: Date | string;
  last_active_at: Date | string;
}

/** A `sessions` row with its children and outgoing refs aggregated (ids, ordered). */
export interface SessionTopologyDbRow extends SessionDbRow {
  children: string[] | null;
  refs: string[] | null;
}

/** A `records` row as the storage statements select it. */
export interface RecordDbRow {
  id: number | string;
  role: Message['role'];
  content: string;
  tool_calls: ToolCall[] | null;
  tool_call_id: string | null;
  metadata: Record<string, unknown> | null;
  timestamp: Date | string;
}

/** Formats a timestamp (a `Date`, or PostgreSQL's JSON text) as an ISO-8601 string. */
export function toIso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** Maps a session row to the session package's `SessionMeta`. */
export function toSessionMeta(row: SessionDbRow): SessionMeta {
  return {
    id: row.id,
    label: row.label,
    role: row.role,
    status: row.status,
    tags: row.tags ?? [],
    metadata: row.metadata ?? {},
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  };
}

/** Maps a session row to the session package's full `SessionRow` (tree fields included). */
export function toSessionRow(row: SessionDbRow): SessionRow {
  return {
    ...toSessionMeta(row),
    parentId: row.parent_id,
    depth: row.depth,
    index: row.index,
    scope: row.scope,
    turnCount: row.turn_count,
    lastActiveAt: toIso(row.last_active_at),
    sourceSessionId: row.source_session_id,
  };
}

/** Maps a session row to core's `SessionMeta` (no role). */
export function toCoreSessionMeta(row: SessionDbRow): CoreSessionMeta {
  return {
    id: row.id,
    label: row.label,
    scope: row.scope,
    status: row.status,
    turnCount: row.turn_count,
    metadata: row.metadata ?? {},
    tags: row.tags ?? [],
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
    lastActiveAt: toIso(row.last_active_at),
  };
}

/** Maps a session row and its aggregated children and refs to core's `TopologyNode`. */
export function toTopologyNode(row: SessionTopologyDbRow): TopologyNode {
  return {
    id: row.id,
    parentId: row.parent_id,
    children: row.children ?? [],
    refs: row.refs ?? [],
    depth: row.depth,
    index: row.index,
    label: row.label,
    sourceSessionId: row.source_session_id,
  };
}

/** Maps a session row with children and refs to core's `SessionInfo` (meta and topology together). */
export function toSessionInfo(row: SessionTopologyDbRow): SessionInfo {
  return { ...toCoreSessionMeta(row), ...toTopologyNode(row) };
}

/** Maps a session row to a childless `SessionTreeNode`; the caller links the children. */
export function toSessionTreeNode(row: SessionDbRow): SessionTreeNode {
  return {
    id: row.id,
    label: row.label,
    // Omitted when there is none, as the original 0.2.x tree did (`sourceSessionId?: string`).
    ...(row.source_session_id === null ? {} : { sourceSessionId: row.source_session_id }),
    status: row.status,
    turnCount: row.turn_count,
    depth: row.depth,
    index: row.index,
    scope: row.scope,
    children: [],
  };
}

/** Maps a record row to the session package's `Message`; optional fields appear only when stored. */
export function toMessage(row: RecordDbRow): Message {
  const message: Message = { role: row.role, content: row.content, timestamp: toIso(row.timestamp) };
  if (row.tool_calls !== null && row.tool_calls !== undefined) message.toolCalls = row.tool_calls;
  if (row.tool_call_id !== null && row.tool_call_id !== undefined) message.toolCallId = row.tool_call_id;
  if (row.metadata !== null && row.metadata !== undefined) message.metadata = row.metadata;
  return message;
}

/** Maps a record row to core's `TurnRecord`; optional fields appear only when stored. */
export function toTurnRecord(row: RecordDbRow): TurnRecord {
  const record: TurnRecord = { role: row.role, content: row.content, timestamp: toIso(row.timestamp) };
  if (row.tool_calls !== null && row.tool_calls !== undefined) record.toolCalls = row.tool_calls;
  if (row.tool_call_id !== null && row.tool_call_id !== undefined) record.toolCallId = row.tool_call_id;
  if (row.metadata !== null && row.metadata !== undefined) record.metadata = row.metadata;
  return record;
}
