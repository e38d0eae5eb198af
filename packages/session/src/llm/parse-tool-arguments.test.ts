import { describe, expect, it } from 'vitest';
import { parseToolArguments } from './parse-tool-arguments';

describe('parseToolArguments', () => {
  it('returns the object when the text is a JSON object', () => {
    expect(parseToolArguments('{"city":"Oslo","days":[1,2]}')).toEqual({ city: 'Oslo', days: [1, 2] });
  });

  it('returns {} when the text is empty, invalid or not an object', () => {
    for (const text of [undefined, null, '', '{"city": "Ber', '[1,2]', '"text"', '42', 'null']) {
      expect(parseToolArguments(text)).toEqual({});
    }
  });
});
