import type { Message } from '@stello-ai/session';
import { CoreError } from '../errors';
import type { MemoryEngine, TurnRecord } from '../types';

/** Records a fork from an earlier message copies at most (the inherited history window). */
export const FORK_FROM_RECORD_MAX_RECORDS = 200;
/** Tool results read after the chosen record to close its tool-call group. */
const GROUP_TAIL_RECORDS = 64;

/**
 * The parent's history up to and including `recordId`, newest {@link FORK_FROM_RECORD_MAX_RECORDS}
 * at most, in two keyset reads: the records before it, then it and the tool results that close its
 * tool-call group (a fork from an assistant message that called tools, or from one of its results,
 * keeps the whole group). The session's byte budget and group rules are applied by `Session.fork`.
 *
 * @throws CoreError `RECORD_NOT_FOUND` when `recordId` is no record of `sessionId`
 */
export async function historyUpTo(
  memory: Pick<MemoryEngine, 'readRecordPage'>,
  sessionId: string,
  recordId: string,
): Promise<Message[]> {
  const notFound = () =>
    new CoreError('RECORD_NOT_FOUND', `record "${recordId}" is not in session "${sessionId}"`, {
      details: { sessionId, recordId },
    });
  if (!/^\d{1,19}$/.test(recordId)) throw notFound();
  const older = await memory.readRecordPage(sessionId, {
    limit: FORK_FROM_RECORD_MAX_RECORDS - 1,
    before: recordId,
  });
  const tail = await memory.readRecordPage(sessionId, {
    limit: GROUP_TAIL_RECORDS,
    after: older.records.at(-1)?.id ?? null,
  });
  const chosen = tail.records[0];
  if (!chosen || chosen.id !== recordId) throw notFound();
  let end = 1;
  if ((chosen.role === 'assistant' && (chosen.toolCalls?.length ?? 0) > 0) || chosen.role === 'tool') {
    while (end < tail.records.length && tail.records[end]?.role === 'tool') end += 1;
  }
  return [...older.records, ...tail.records.slice(0, end)].map(toMessage);
}

function toMessage(record: TurnRecord): Message {
  const message: Message = { role: record.role, content: record.content, timestamp: record.timestamp };
  if (record.metadata) message.metadata = record.metadata;
  if (record.toolCalls) message.toolCalls = record.toolCalls;
  if (record.toolCallId) message.toolCallId = record.toolCallId;
  return message;
}
