import { CodedError } from '@stello-ai/errors';

export { isCodedError } from '@stello-ai/errors';

/** Stable codes of `SessionError`. */
export type SessionErrorCode =
  | 'SESSION_NOT_FOUND'
  | 'SESSION_ARCHIVED'
  | 'TURN_CONFLICT'
  | 'SESSION_BUSY'
  | 'TURN_ID_CONFLICT'
  | 'TURN_CANCELLED'
  | 'TURN_NOT_FOUND'
  | 'NO_LLM'
  | 'LLM_ERROR'
  | 'CONTEXT_TOO_LONG'
  | 'ABORTED'
  | 'INVALID_ARGUMENT'
  | 'NOT_MAIN_SESSION'
  /** An operation whose old meaning is gone, e.g. `removeNode` (see `MainStorage.deleteSubtree`). */
  | 'INVALID_OPERATION';

/** Error of the session layer; identify it by `code` (see `isSessionError`), not by class. */
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

/** Thrown when a turn, fork or write targets an archived session. */
export class SessionArchivedError extends SessionError {
  constructor(sessionId: string) {
    super('SESSION_ARCHIVED', `session "${sessionId}" is archived`, { details: { sessionId } });
    this.name = 'SessionArchivedError';
  }
}

/** The `ABORTED` error of a turn whose signal fired before or while it ran. */
export function turnAbortedError(cause?: unknown): SessionError {
  return new SessionError('ABORTED', 'turn aborted', { cause });
}

/**
 * Builds the `SESSION_NOT_FOUND` error for a session this space does not hold, with
 * `details.sessionId`; every storage and view throws this one so callers see the same error.
 */
export function sessionNotFoundError(sessionId: string): SessionError {
  return new SessionError('SESSION_NOT_FOUND', `session "${sessionId}" not found`, {
    details: { sessionId },
  });
}

/**
 * The error of `MainStorage.removeNode`: in the original 0.2.x it detached the node (which made a
 * second root); that meaning cannot be kept, so the name refuses rather than do something else.
 */
export function removeNodeRefusedError(sessionId: string): SessionError {
  return new SessionError(
    'INVALID_OPERATION',
    'removeNode no longer exists: it detached the node in 0.2.x, which left a second root. ' +
      'Call deleteSubtree(id) to delete the session with its subtree, or putNode to move it.',
    { details: { sessionId, operation: 'removeNode', use: ['deleteSubtree', 'putNode'] } },
  );
}
