import { describe, expect, it } from 'vitest';
import {
  CLIENT_MESSAGE_SCHEMAS,
  clientMessageSchema,
  ERROR_CODES,
  errorBody,
  LABEL_MAX_CHARS,
  listSpacesQuery,
  serverFrameSchema,
  turnBody,
  UUID_PATTERN,
  WS_PROTOCOL_ERROR_CODES,
} from './index';

const ID = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';

describe('@stello-ai/protocol', () => {
  it('validates turn bodies: input required and bounded, turnId a UUID, unknown fields dropped', () => {
    expect(turnBody.parse({ input: 'hi', extra: 1 })).toEqual({ input: 'hi' });
    expect(turnBody.safeParse({ input: '' }).success).toBe(false);
    expect(turnBody.safeParse({ input: 'hi', turnId: 'nope' }).success).toBe(false);
    expect(turnBody.parse({ input: 'hi', turnId: ID.toUpperCase(), concurrency: 'reject' }).concurrency).toBe(
      'reject',
    );
  });

  it('parses a page limit from the query text, within bounds', () => {
    expect(listSpacesQuery.parse({ limit: '10' })).toEqual({ limit: 10 });
    expect(listSpacesQuery.safeParse({ limit: '0' }).success).toBe(false);
    expect(listSpacesQuery.safeParse({ limit: '1001' }).success).toBe(false);
    expect(listSpacesQuery.safeParse({ limit: 'ten' }).success).toBe(false);
  });

  it('writes the UUID pattern without flags, so JSON Schema reads it the same', () => {
    expect(UUID_PATTERN.flags).toBe('');
    expect(UUID_PATTERN.test(ID.toUpperCase())).toBe(true);
  });

  it('keeps one schema per client message type, and the union picks by type', () => {
    for (const [type, schema] of Object.entries(CLIENT_MESSAGE_SCHEMAS)) {
      expect(schema.shape.type.value).toBe(type);
    }
    expect(clientMessageSchema.parse({ type: 'session.resume', sessionId: ID, turnId: ID })).toEqual({
      type: 'session.resume',
      sessionId: ID,
      turnId: ID,
      afterSeq: 0,
    });
    expect(
      clientMessageSchema.safeParse({
        type: 'session.fork',
        options: { label: 'x'.repeat(LABEL_MAX_CHARS + 1) },
      }).success,
    ).toBe(false);
  });

  it('accepts only known codes in error bodies and frames', () => {
    expect(errorBody.parse({ error: 'no', code: 'SESSION_NOT_FOUND' }).code).toBe('SESSION_NOT_FOUND');
    expect(errorBody.safeParse({ error: 'no', code: 'MADE_UP' }).success).toBe(false);
    expect(errorBody.safeParse({ error: { message: 'no' }, code: 'INTERNAL' }).success).toBe(false);
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    for (const code of WS_PROTOCOL_ERROR_CODES) {
      expect(serverFrameSchema.parse({ type: 'error', code, message: 'bad frame' })).toMatchObject({ code });
    }
    expect(
      serverFrameSchema.safeParse({ type: 'stream.delta', turnId: ID, seq: 0, chunk: 'a' }).success,
    ).toBe(false);
  });
});
