import { describe, expect, it } from 'vitest';
import { isUuid } from './is-uuid';

describe('isUuid', () => {
  it('accepts a canonical UUID in either case', () => {
    expect(isUuid('0b5e2a4c-9d1f-4c3a-8e7b-2f6d1a9c3e5b')).toBe(true);
    expect(isUuid('0B5E2A4C-9D1F-4C3A-8E7B-2F6D1A9C3E5B')).toBe(true);
  });

  it('rejects other forms and non-strings', () => {
    for (const value of [
      '0b5e2a4c9d1f4c3a8e7b2f6d1a9c3e5b',
      '{0b5e2a4c-9d1f-4c3a-8e7b-2f6d1a9c3e5b}',
      ' 0b5e2a4c-9d1f-4c3a-8e7b-2f6d1a9c3e5b',
      '0b5e2a4c-9d1f-4c3a-8e7b-2f6d1a9c3e5g',
      '',
      42,
      null,
      undefined,
    ]) {
      expect(isUuid(value)).toBe(false);
    }
  });
});
