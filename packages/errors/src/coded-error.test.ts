import { describe, expect, it } from 'vitest';
import { CodedError, isCodedError } from './index';

describe('CodedError', () => {
  it('keeps the code, message, details and cause', () => {
    const cause = new Error('root');
    const error = new CodedError('X_FAILED', 'x failed', { cause, details: { id: 1 } });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('X_FAILED');
    expect(error.message).toBe('x failed');
    expect(error.details).toEqual({ id: 1 });
    expect(error.cause).toBe(cause);
    expect('details' in new CodedError('Y', 'y')).toBe(false);
  });
});

describe('isCodedError', () => {
  it('recognises an error by code, whatever its class', () => {
    const copy = Object.assign(new Error('from another copy'), {
      name: 'SessionError',
      code: 'SESSION_BUSY',
    });
    expect(isCodedError(copy)).toBe(true);
    expect(isCodedError(copy, 'SESSION_BUSY')).toBe(true);
    expect(isCodedError(copy, 'ABORTED')).toBe(false);
  });

  it('rejects values without a string code', () => {
    expect(isCodedError(new Error('plain'))).toBe(false);
    expect(isCodedError(Object.assign(new Error('n'), { code: 42 }))).toBe(false);
    expect(isCodedError('SESSION_BUSY')).toBe(false);
    expect(isCodedError(null)).toBe(false);
  });
});
