import { CodedError } from '@stello-ai/errors';

/** Stable codes of `CoreError`. Session-level failures keep their `SessionError` codes. */
export type CoreErrorCode =
  /** A tool definition is unusable: a bad name, or an input schema that is not a JSON object schema. */
  | 'INVALID_TOOL'
  /** Two tools (or a tool and a built-in) share one name. */
  | 'DUPLICATE_TOOL'
  /** `forkSession` named a profile that `capabilities.profiles` does not define. */
  | 'PROFILE_NOT_FOUND'
  /** The model's reply to a consolidation or integration prompt cannot be used; nothing was written. */
  | 'INVALID_MODEL_REPLY'
  /** The operation does not apply to this session (e.g. consolidating the main session). */
  | 'INVALID_OPERATION'
  /** The agent was disposed; it accepts no new work. */
  | 'AGENT_DISPOSED'
  /** `forkSession({ fromRecordId })` named a record that is not in the session. */
  | 'RECORD_NOT_FOUND'
  /** A ref would point at the session itself, an ancestor or a descendant. */
  | 'INVALID_REF';

/** Error of the agent layer; identify it by `code` (see `isCodedError`), not by class. */
export class CoreError extends CodedError<CoreErrorCode> {
  constructor(
    code: CoreErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(code, message, options);
    this.name = 'CoreError';
  }
}
