import type { SessionListFilter, SessionMetadataValue } from '@stello-ai/core';
import type { Context } from 'hono';
import { TransportError } from '../errors';
import { LABEL_MAX_CHARS, listSessionsQuery, type ValidationIssue, validate } from '../validation';

/** Prefix of the metadata filters of `GET …/sessions`: `meta.<key>=<value>`. */
export const META_FILTER_PREFIX = 'meta.';
/** Most `meta.<key>` values one `GET …/sessions` accepts (all keys together). */
export const SESSION_FILTER_MAX_META_VALUES = 20;

/** The validated query of `GET …/sessions`. */
export interface SessionListQuery {
  view: 'flat' | 'tree';
  limit?: number;
  after?: string;
  filter: SessionListFilter;
}

function invalidQuery(issue: ValidationIssue): TransportError {
  return new TransportError('VALIDATION_ERROR', `invalid query: ${issue.path}: ${issue.message}`, {
    details: [issue],
  });
}

/**
 * The metadata values a query value stands for: the text itself, and also the JSON number,
 * boolean or `null` it spells (`meta.priority=1` matches `1` and `"1"`), since a query has no types.
 */
function metadataCandidates(text: string): SessionMetadataValue[] {
  const candidates: SessionMetadataValue[] = [text];
  if (text === 'true' || text === 'false' || text === 'null' || /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) {
    const parsed = JSON.parse(text) as SessionMetadataValue;
    if (typeof parsed !== 'number' || Number.isFinite(parsed)) candidates.push(parsed);
  }
  return candidates;
}

/** `meta.<key>=<value>` filters; a repeated key matches any of its values. */
function readMetadataFilter(queries: Record<string, string[]>): SessionListFilter['metadata'] {
  const metadata: Record<string, SessionMetadataValue[]> = {};
  let count = 0;
  for (const [name, values] of Object.entries(queries)) {
    if (!name.startsWith(META_FILTER_PREFIX)) continue;
    const key = name.slice(META_FILTER_PREFIX.length);
    if (key.length === 0 || key.length > LABEL_MAX_CHARS) {
      throw invalidQuery({
        path: name,
        message: `metadata key must have 1 to ${LABEL_MAX_CHARS} characters`,
      });
    }
    count += values.length;
    if (count > SESSION_FILTER_MAX_META_VALUES) {
      throw invalidQuery({
        path: name,
        message: `at most ${SESSION_FILTER_MAX_META_VALUES} metadata values`,
      });
    }
    for (const value of values) {
      if (value.length > LABEL_MAX_CHARS) {
        throw invalidQuery({ path: name, message: `must have at most ${LABEL_MAX_CHARS} characters` });
      }
    }
    metadata[key] = values.flatMap(metadataCandidates);
  }
  return count > 0 ? metadata : undefined;
}

/**
 * Reads and validates the query of `GET …/sessions`. Paging (`limit`, `after`) and filters
 * (`status`, repeatable `tag`, `labelPrefix`, `meta.<key>`) apply to the flat list only; with
 * `view=tree` they are a 400.
 *
 * @throws TransportError `VALIDATION_ERROR`
 */
export function readSessionListQuery(c: Context): SessionListQuery {
  const queries = c.req.queries();
  // One value per scalar parameter (the first, as `c.req.query()` reads it); `tag` keeps them all.
  const scalars: Record<string, unknown> = {};
  for (const [name, values] of Object.entries(queries)) {
    if (name !== 'tag' && !name.startsWith(META_FILTER_PREFIX)) scalars[name] = values[0];
  }
  const query = validate(
    listSessionsQuery,
    { ...scalars, ...(queries.tag && { tag: queries.tag }) },
    'query',
  );
  const filter: SessionListFilter = {};
  if (query.status !== undefined) filter.status = query.status;
  if (query.tag !== undefined) filter.tags = query.tag;
  if (query.labelPrefix !== undefined) filter.labelPrefix = query.labelPrefix;
  const metadata = readMetadataFilter(queries);
  if (metadata !== undefined) filter.metadata = metadata;
  const paged = query.limit !== undefined || query.after !== undefined || Object.keys(filter).length > 0;
  const view = query.view ?? 'flat';
  if (view === 'tree' && paged) {
    throw invalidQuery({
      path: 'view',
      message: 'paging and filters apply to the flat list, not to view=tree',
    });
  }
  return {
    view,
    ...(query.limit !== undefined && { limit: query.limit }),
    ...(query.after !== undefined && { after: query.after }),
    filter,
  };
}
