/** Why a value cannot be written to a `jsonb` column. */
export type JsonbProblem =
  /** A string or a key holds U+0000, which `jsonb` cannot store (SQLSTATE 22P05). */
  | 'NUL_CHARACTER'
  /** JSON cannot express the value (a cycle, a BigInt, a throwing `toJSON`). */
  | 'NOT_JSON';

/** The outcome of {@link toJsonbText}: the JSON text, or the problem that prevents one. */
export type JsonbText = { ok: true; text: string } | { ok: false; problem: JsonbProblem };

/**
 * Serializes `value` as the JSON text of a `jsonb` parameter (`pg` cannot be given the value
 * itself, see the README), or reports why PostgreSQL would refuse it, so callers can answer with
 * their own validation error before any query. `undefined` becomes `null`.
 */
export function toJsonbText(value: unknown): JsonbText {
  let nulFound = false;
  try {
    const text = JSON.stringify(value, (key, item: unknown) => {
      if (key.includes('\u0000') || (typeof item === 'string' && item.includes('\u0000'))) {
        nulFound = true;
        // Stop at the first one: the rest of the value need not be serialized.
        throw new Error('nul character');
      }
      return item;
    });
    return { ok: true, text: text ?? 'null' };
  } catch {
    return { ok: false, problem: nulFound ? 'NUL_CHARACTER' : 'NOT_JSON' };
  }
}
