import { toJsonbText } from '@stello-ai/storage';
import { RuntimeError } from './errors';

function invalid(field: string, message: string): RuntimeError {
  return new RuntimeError('INVALID_ARGUMENT', message, { details: { field } });
}

/** Throws `INVALID_ARGUMENT` unless `value` is a string PostgreSQL `text` can store (no NUL). */
export function assertText(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') throw invalid(field, `${field} must be a string`);
  // PostgreSQL text cannot hold U+0000; rejecting it here keeps a 4xx from becoming a 5xx.
  if (value.includes('\u0000')) throw invalid(field, `${field} must not contain NUL characters`);
}

/** Throws `INVALID_ARGUMENT` unless `value` is a storable string with a non-blank character. */
export function assertNonBlank(field: string, value: unknown): asserts value is string {
  assertText(field, value);
  if (value.trim().length === 0) throw invalid(field, `${field} must not be empty`);
}

/** Throws `INVALID_ARGUMENT` unless `value` is a storable string or `null`. */
export function assertNullableText(field: string, value: unknown): asserts value is string | null {
  if (value !== null) assertText(field, value);
}

/**
 * Returns a plain object as it will read back from a `jsonb` column (its JSON round trip).
 * @throws RuntimeError `INVALID_ARGUMENT` when it is not a plain object or cannot be stored as jsonb
 */
export function toJsonObject(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(field, `${field} must be a JSON object`);
  }
  const json = toJsonbText(value);
  if (json.ok) return JSON.parse(json.text) as Record<string, unknown>;
  throw json.problem === 'NUL_CHARACTER'
    ? invalid(field, `${field} must not contain NUL characters`)
    : invalid(field, `${field} must be serializable as JSON`);
}
