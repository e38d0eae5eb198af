import { createHash } from 'node:crypto';
import { isUuid } from '@stello-ai/runtime';
import { TransportError } from '../errors';

/** Longest `Idempotency-Key` accepted. */
const MAX_IDEMPOTENCY_KEY_CHARS = 255;

/**
 * The turn id of a request: the body's `turnId`, else the `Idempotency-Key` header (a UUID as is;
 * any other key is hashed into a stable UUID, name-based like UUID v5, so a retry with the same
 * key finds the same turn), else `undefined` (the agent mints one). Both given and different is a
 * 400: a client must not ask for two turns at once.
 */
export function requestTurnId(
  bodyTurnId: string | undefined,
  idempotencyKey: string | undefined,
): string | undefined {
  const fromHeader = idempotencyKey === undefined ? undefined : turnIdOfKey(idempotencyKey);
  if (bodyTurnId !== undefined && fromHeader !== undefined && bodyTurnId.toLowerCase() !== fromHeader) {
    throw new TransportError('VALIDATION_ERROR', 'turnId and Idempotency-Key name different turns', {
      details: [{ path: 'turnId', message: 'differs from the Idempotency-Key header' }],
    });
  }
  return bodyTurnId ?? fromHeader;
}

/** The turn id an `Idempotency-Key` stands for. */
export function turnIdOfKey(key: string): string {
  const trimmed = key.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_IDEMPOTENCY_KEY_CHARS) {
    throw new TransportError(
      'VALIDATION_ERROR',
      `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_CHARS} characters`,
      {
        details: [{ path: 'Idempotency-Key', message: 'invalid length' }],
      },
    );
  }
  if (isUuid(trimmed)) return trimmed.toLowerCase();
  const hex = createHash('sha256').update(`stello-idempotency-key:${trimmed}`).digest('hex');
  // Version 5 and RFC 4122 variant bits, so the result is a well-formed UUID.
  const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
