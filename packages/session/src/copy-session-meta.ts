import type { SessionMeta } from './types';

/**
 * Returns a deep copy of the `SessionMeta` fields of `source` (a storage row or any richer
 * record), leaving every other field out, so callers never share mutable tags or metadata.
 */
export function copySessionMeta(source: SessionMeta): SessionMeta {
  const { id, label, role, status, tags, metadata, createdAt, updatedAt } = source;
  return structuredClone({ id, label, role, status, tags, metadata, createdAt, updatedAt });
}
