/** Options every coded error accepts: the underlying `cause` and structured `details`. */
export interface CodedErrorOptions<TDetails = Record<string, unknown>> {
  cause?: unknown;
  details?: TDetails;
}

/**
 * Base of every Stello error: a human `message`, a stable machine-readable `code` and optional
 * `details`. Recognise one with `isCodedError`, never with `instanceof`: a second copy of a package
 * (two versions in one install, a bundle) has its own class.
 */
export class CodedError<TCode extends string = string, TDetails = Record<string, unknown>> extends Error {
  /** Stable machine-readable reason; the message is for humans. */
  readonly code: TCode;
  /** Structured context (ids, field names); absent when there is none. */
  declare readonly details?: TDetails;

  constructor(code: TCode, message: string, options?: CodedErrorOptions<TDetails>) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CodedError';
    this.code = code;
    if (options?.details !== undefined) this.details = options.details;
  }
}

/**
 * True when `value` is an error carrying a string `code` and a string `name` (and the code equals
 * `code`, when given). Duck-typed on purpose: it recognises errors from any copy of any package.
 */
export function isCodedError(value: unknown, code?: string): value is Error & { code: string } {
  if (typeof value !== 'object' || value === null) return false;
  const { code: actual, name } = value as { code?: unknown; name?: unknown };
  if (typeof actual !== 'string' || typeof name !== 'string') return false;
  if (!(value instanceof Error) && typeof (value as { message?: unknown }).message !== 'string') return false;
  return code === undefined || actual === code;
}
