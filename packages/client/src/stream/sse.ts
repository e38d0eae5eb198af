/** One Server-Sent Event. */
export interface SseEvent {
  /** `event:`; `message` when absent. */
  event: string;
  /** `id:`, when the event had one. */
  id: string | undefined;
  /** The `data:` lines joined by newlines. */
  data: string;
}

/**
 * Parses a `text/event-stream` body (WHATWG rules: `\n`, `\r\n` or `\r` line ends, comments and
 * `retry:` skipped, events without data skipped). Works on any `ReadableStream` of bytes, so in
 * Node and in browsers, with the headers `EventSource` cannot send.
 */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let id: string | undefined;
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      for (;;) {
        const end = buffer.search(/\r\n|\r|\n/);
        // A lone `\r` at the end may be the first half of `\r\n`: wait for more.
        if (end < 0 || (end === buffer.length - 1 && buffer[end] === '\r' && !done)) break;
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer.startsWith('\r\n', end) ? 2 : 1));
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', id, data: data.join('\n') };
          event = '';
          id = undefined;
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const raw = colon < 0 ? '' : line.slice(colon + 1);
        const value = raw.startsWith(' ') ? raw.slice(1) : raw;
        if (field === 'data') data.push(value);
        else if (field === 'event') event = value;
        else if (field === 'id') id = value;
      }
      if (done) return;
    }
  } finally {
    // A reader that stops early (a `break`, an abort) closes the body, and so the connection.
    reader.cancel().catch(() => {});
  }
}
