import { describe, expect, it } from 'vitest';
import { assertWellFormedText, decodeUtf8 } from './well-formed-text';

describe('well-formed text', () => {
  it('accepts paired surrogates (emoji), CJK and plain text at any depth', () => {
    expect(() => assertWellFormedText({ a: ['你好 😀', { b: 'ok' }], 键: 'x' })).not.toThrow();
  });

  it('refuses a lone high or low surrogate in a value or a key, naming where', () => {
    for (const [value, path] of [
      [{ label: 'a\ud800' }, 'label'],
      [{ list: ['ok', '\udc00b'] }, 'list.1'],
      [{ nested: { deep: 'x\ud83d' } }, 'nested.deep'],
    ] as const) {
      expect(() => assertWellFormedText(value)).toThrow(
        expect.objectContaining({ code: 'INVALID_TEXT', details: { path } }),
      );
    }
    expect(() => assertWellFormedText({ 'k\ud800': 1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_TEXT' }),
    );
  });

  it('decodes UTF-8 and refuses invalid bytes instead of replacing them', () => {
    expect(decodeUtf8(new TextEncoder().encode('{"a":"é"}'))).toBe('{"a":"é"}');
    expect(() => decodeUtf8(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(
      expect.objectContaining({ code: 'INVALID_TEXT' }),
    );
  });
});
