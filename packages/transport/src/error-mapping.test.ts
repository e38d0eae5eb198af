import { CoreError } from '@stello-ai/core';
import { RuntimeError } from '@stello-ai/runtime';
import { SessionError } from '@stello-ai/session';
import { describe, expect, it } from 'vitest';
import { ERROR_STATUS, errorBody, toPublicError } from './error-mapping';
import { TransportError } from './errors';

describe('toPublicError', () => {
  it('keeps the status, code and message of our own 4xx errors', () => {
    expect(toPublicError(new SessionError('SESSION_NOT_FOUND', 'session "x" not found'))).toEqual({
      status: 404,
      code: 'SESSION_NOT_FOUND',
      message: 'session "x" not found',
    });
    expect(toPublicError(new SessionError('SESSION_ARCHIVED', 'archived')).status).toBe(409);
    expect(toPublicError(new SessionError('TURN_CONFLICT', 'conflict')).status).toBe(409);
    expect(
      toPublicError(
        new SessionError('SESSION_BUSY', 'busy', { details: { sessionId: 's', retryAfterMs: 5 } }),
      ),
    ).toEqual({
      status: 409,
      code: 'SESSION_BUSY',
      message: 'busy',
      details: { sessionId: 's', retryAfterMs: 5 },
    });
    expect(toPublicError(new RuntimeError('SPACE_NOT_FOUND', 'gone')).status).toBe(404);
    expect(toPublicError(new CoreError('PROFILE_NOT_FOUND', 'no profile')).status).toBe(400);
    const validation = new TransportError('VALIDATION_ERROR', 'bad', {
      details: [{ path: 'label', message: 'x' }],
    });
    expect(toPublicError(validation)).toMatchObject({
      status: 400,
      details: [{ path: 'label', message: 'x' }],
    });
  });

  it('answers an input over the model window with 413 CONTEXT_TOO_LONG', () => {
    const result = toPublicError(
      new SessionError('CONTEXT_TOO_LONG', 'anthropic rejected the prompt as too long'),
    );
    expect(result).toMatchObject({ status: 413, code: 'CONTEXT_TOO_LONG' });
  });

  it('hides the message of provider failures behind a generic one', () => {
    const result = toPublicError(new SessionError('LLM_ERROR', '401 invalid key sk-secret'));
    expect(result).toEqual({ status: 502, code: 'LLM_ERROR', message: 'the language model provider failed' });
  });

  it('hides the message of infrastructure errors even when they are 4xx', () => {
    const storage = Object.assign(new Error('database refused the operation: invalid input syntax'), {
      name: 'StorageError',
      code: 'INVALID_ARGUMENT',
    });
    expect(toPublicError(storage)).toEqual({
      status: 400,
      code: 'INVALID_ARGUMENT',
      message: 'invalid argument',
    });
  });

  it('turns unknown errors, unknown codes and non-errors into a generic 500 INTERNAL', () => {
    const internal = { status: 500, code: 'INTERNAL', message: 'internal server error' };
    expect(toPublicError(new Error('relation "users" does not exist'))).toEqual(internal);
    expect(toPublicError(Object.assign(new Error('syntax'), { code: '42601', severity: 'ERROR' }))).toEqual(
      internal,
    );
    expect(toPublicError('boom')).toEqual(internal);
    expect(toPublicError(Object.assign(new Error('x'), { code: 'hasOwnProperty' }))).toEqual(internal);
  });

  it('maps every code to a client or server status', () => {
    for (const status of Object.values(ERROR_STATUS)) expect(status >= 400 && status < 600).toBe(true);
  });
});

describe('errorBody', () => {
  it('renders { error, code } and adds details only when present', () => {
    expect(errorBody({ status: 404, code: 'NOT_FOUND', message: 'no such route' })).toEqual({
      error: 'no such route',
      code: 'NOT_FOUND',
    });
    expect(errorBody({ status: 400, code: 'VALIDATION_ERROR', message: 'bad', details: [] })).toEqual({
      error: 'bad',
      code: 'VALIDATION_ERROR',
      details: [],
    });
  });
});
