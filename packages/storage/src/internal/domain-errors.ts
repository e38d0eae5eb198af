import type { CoreErrorCode } from '@stello-ai/core';
import { CodedError } from '@stello-ai/errors';
import type { SessionErrorCode } from '@stello-ai/session';

// Storage throws the session and core layers' errors (same names, codes and details) from its own
// classes: `@stello-ai/session` and `@stello-ai/core` are peer dependencies that may be the
// original 0.2.x packages, which have none of these classes. Every layer recognises an error by
// `code` (`isCodedError`), never by class, so these are the same errors to their callers.

/** `SessionError` of the session layer, as storage throws it. */
export class SessionError extends CodedError<SessionErrorCode> {
  constructor(
    code: SessionErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(code, message, options);
    this.name = 'SessionError';
  }
}

/** The `SESSION_ARCHIVED` error of a write to an archived session. */
export class SessionArchivedError extends SessionError {
  constructor(sessionId: string) {
    super('SESSION_ARCHIVED', `session "${sessionId}" is archived`, { details: { sessionId } });
    this.name = 'SessionArchivedError';
  }
}

/** `CoreError` of the core layer, as storage throws it (`INVALID_REF`). */
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

/** The `SESSION_NOT_FOUND` error, with `details.sessionId`. */
export function sessionNotFoundError(sessionId: string): SessionError {
  return new SessionError('SESSION_NOT_FOUND', `session "${sessionId}" not found`, {
    details: { sessionId },
  });
}

/** `removeNode`'s refusal: the original detached the node (a second root); see `deleteSubtree`. */
export function removeNodeRefusedError(sessionId: string): SessionError {
  return new SessionError(
    'INVALID_OPERATION',
    'removeNode no longer exists: it detached the node in 0.2.x, which left a second root. ' +
      'Call deleteSubtree(id) to delete the session with its subtree, or putNode to move it.',
    { details: { sessionId, operation: 'removeNode', use: ['deleteSubtree', 'putNode'] } },
  );
}
