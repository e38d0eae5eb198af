/**
 * A UUID in the canonical 8-4-4-4-12 hex form (any case), which is what PostgreSQL's `uuid` type
 * prints. Ids are checked against it before any query, so that a malformed id means "not found"
 * rather than failing the statement with 22P02 (invalid_text_representation).
 */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a string in the canonical UUID form (see {@link UUID_PATTERN}). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}
