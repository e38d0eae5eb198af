import { describe, expect, it } from 'vitest';
import { toJsonbText } from './to-jsonb-text';

describe('toJsonbText', () => {
  it('returns the JSON text of a storable value', () => {
    expect(toJsonbText({ a: [1, 'two', null], b: { c: true } })).toEqual({
      ok: true,
      text: '{"a":[1,"two",null],"b":{"c":true}}',
    });
    expect(toJsonbText(undefined)).toEqual({ ok: true, text: 'null' });
  });

  it('reports NUL_CHARACTER when a string or a key holds U+0000', () => {
    expect(toJsonbText({ nested: ['ok', 'a\u0000b'] })).toEqual({ ok: false, problem: 'NUL_CHARACTER' });
    expect(toJsonbText({ 'k\u0000': 1 })).toEqual({ ok: false, problem: 'NUL_CHARACTER' });
  });

  it('reports NOT_JSON when JSON cannot express the value', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(toJsonbText(cycle)).toEqual({ ok: false, problem: 'NOT_JSON' });
    expect(toJsonbText({ big: 1n })).toEqual({ ok: false, problem: 'NOT_JSON' });
  });
});
