import { TransportError } from './errors';

// Text is stored exactly as sent or not at all: a lone UTF-16 surrogate (legal in a JSON escape,
// "\ud800") cannot be stored in PostgreSQL's UTF-8 and would come back altered, and invalid UTF-8
// bytes would decode to U+FFFD. Both are refused with a 400 instead.

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });
// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** The body's bytes as text, or `INVALID_TEXT` (400) when they are not valid UTF-8. */
export function decodeUtf8(bytes: ArrayBuffer | Uint8Array): string {
  try {
    return fatalUtf8.decode(bytes);
  } catch {
    throw new TransportError('INVALID_TEXT', 'the body is not valid UTF-8');
  }
}

/**
 * Throws `INVALID_TEXT` (400) when any string of `value` (keys included, at any depth) holds a
 * lone surrogate; `details.path` names the first one. Walks with its own stack (no recursion).
 */
export function assertWellFormedText(value: unknown): void {
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: '' }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop() as { value: unknown; path: string };
    if (typeof current === 'string') {
      if (!isWellFormed(current)) throw loneSurrogate(path);
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => {
        stack.push({ value: item, path: path ? `${path}.${index}` : String(index) });
      });
    } else if (current !== null && typeof current === 'object') {
      for (const [key, item] of Object.entries(current)) {
        if (!isWellFormed(key)) throw loneSurrogate(path);
        stack.push({ value: item, path: path ? `${path}.${key}` : key });
      }
    }
  }
}

function loneSurrogate(path: string): TransportError {
  return new TransportError(
    'INVALID_TEXT',
    `${path || 'the value'} holds a lone UTF-16 surrogate, which cannot be stored`,
    {
      details: { path },
    },
  );
}
