import { describe, expect, it } from 'vitest';
import { stringifyDeep } from './stringify-deep';

describe('stringifyDeep', () => {
  it('writes what JSON.stringify writes', () => {
    const samples: unknown[] = [
      null,
      1.5,
      'text "quoted" \u2028 \ud83d\ude00',
      [],
      {},
      [1, undefined, () => 1, 'x'],
      { a: 1, skip: undefined, fn: () => 1, nested: { at: new Date(0), list: [{ b: null }] } },
      { children: [{ children: [] }, { children: [{ id: 'x', tags: ['a', 'b'] }] }] },
    ];
    for (const sample of samples) expect(stringifyDeep(sample)).toBe(JSON.stringify(sample));
  });

  it('writes a tree 100,000 levels deep, where JSON.stringify overflows the stack', () => {
    const root: { id: number; children: unknown[] } = { id: 0, children: [] };
    let node = root;
    for (let i = 1; i < 100_000; i++) {
      const child = { id: i, children: [] };
      node.children.push(child);
      node = child;
    }
    expect(() => JSON.stringify(root)).toThrow(RangeError);
    const text = stringifyDeep(root);
    expect(text.startsWith('{"id":0,"children":[{"id":1,')).toBe(true);
    expect(text.endsWith(`{"id":99999,"children":[]}${']}'.repeat(99_999)}`)).toBe(true);
  });
});
