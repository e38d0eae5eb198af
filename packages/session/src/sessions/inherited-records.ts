import type { Message } from '../types';

/**
 * Most content a fork with `context: 'inherit'` copies (1 MiB of the newest records, never more
 * than the history window); older records are left out, and a tool-call group cut at the start
 * is dropped whole.
 */
export const MAX_INHERITED_BYTES = 1024 * 1024;

/** The newest records whose content and tool calls fit in `budget` bytes, oldest first. */
export function newestWithinBytes(records: readonly Message[], budget: number): Message[] {
  let used = 0;
  let start = records.length;
  while (start > 0) {
    const record = records[start - 1] as Message;
    const size =
      Buffer.byteLength(record.content ?? '', 'utf8') +
      (record.toolCalls ? Buffer.byteLength(JSON.stringify(record.toolCalls), 'utf8') : 0);
    if (used + size > budget) break;
    used += size;
    start -= 1;
  }
  return records.slice(start);
}
