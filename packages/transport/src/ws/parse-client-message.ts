import type { TurnOptions } from '@stello-ai/core';
import type { RawData } from 'ws';
import { toValidationIssues } from '../validation';
import { assertWellFormedText } from '../well-formed-text';
import {
  CLIENT_MESSAGE_SCHEMAS,
  type ClientMessage,
  isClientMessageType,
  type WsErrorCode,
} from './protocol';

// Reading a client's frame: JSON, well-formed text, a known type, its schema; failures the client
// can act on, with the seeds' codes.

const TYPE_ECHO_MAX_CHARS = 64;

// A failure the client caused or can act on; its message is safe and nothing is logged as a fault.
export class ProtocolFailure extends Error {
  constructor(
    readonly code: WsErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** The turn options a `session.message` / `session.stream` frame asks for. */
export function turnOptions(message: {
  turnId?: string | undefined;
  concurrency?: 'enqueue' | 'reject' | undefined;
}): TurnOptions {
  return {
    ...(message.turnId !== undefined && { turnId: message.turnId }),
    ...(message.concurrency !== undefined && { concurrency: message.concurrency }),
  };
}

export function frameText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** The client message in `data`, validated. @throws ProtocolFailure */
export function parseClientMessage(data: RawData, isBinary: boolean): ClientMessage {
  if (isBinary)
    throw new ProtocolFailure('INVALID_MESSAGE', 'binary frames are not supported; send JSON text');
  let value: unknown;
  try {
    value = JSON.parse(frameText(data));
  } catch {
    throw new ProtocolFailure('PARSE_ERROR', 'invalid json');
  }
  // The seeds' codes: JSON that is not an object is a parse error; a missing or unknown type is
  // UNKNOWN_TYPE; INVALID_MESSAGE is kept for a known type with bad fields.
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolFailure('PARSE_ERROR', 'a message must be a JSON object');
  }
  try {
    assertWellFormedText(value);
  } catch (error) {
    const { message, details } = error as { message: string; details?: unknown };
    throw new ProtocolFailure('INVALID_TEXT', message, details);
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') throw new ProtocolFailure('UNKNOWN_TYPE', 'a message needs a string type');
  if (!isClientMessageType(type)) {
    throw new ProtocolFailure('UNKNOWN_TYPE', `unknown message type "${type.slice(0, TYPE_ECHO_MAX_CHARS)}"`);
  }
  const result = CLIENT_MESSAGE_SCHEMAS[type].safeParse(value);
  if (!result.success) {
    const issues = toValidationIssues(result.error);
    const first = issues[0];
    const summary = first ? `${first.path ? `${first.path}: ` : ''}${first.message}` : 'invalid message';
    throw new ProtocolFailure('INVALID_MESSAGE', `invalid ${type}: ${summary}`, issues);
  }
  return result.data as ClientMessage;
}
