import { describe, expect, it } from 'vitest';
import { isCodedError, SessionError, sessionNotFoundError, turnAbortedError } from './errors';

describe('sessionNotFoundError', () => {
  it('builds a SESSION_NOT_FOUND SessionError naming the session', () => {
    const error = sessionNotFoundError('s-42');
    expect(error).toBeInstanceOf(SessionError);
    expect(isCodedError(error, 'SESSION_NOT_FOUND')).toBe(true);
    expect(error.message).toBe('session "s-42" not found');
    expect(error.details).toEqual({ sessionId: 's-42' });
  });
});

describe('turnAbortedError', () => {
  it('builds an ABORTED SessionError that keeps the abort reason as cause', () => {
    const reason = new Error('client went away');
    const error = turnAbortedError(reason);
    expect(isCodedError(error, 'ABORTED')).toBe(true);
    expect(error.message).toBe('turn aborted');
    expect(error.cause).toBe(reason);
  });

  it('has no cause when no reason is given', () => {
    expect('cause' in turnAbortedError()).toBe(false);
  });
});
