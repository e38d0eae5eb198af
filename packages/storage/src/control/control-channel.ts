// The contract between processes that share one database: small events (ids and what changed)
// and the liveness of each process. Storage implements it on PostgreSQL (LISTEN/NOTIFY and a
// session advisory lock); an in-memory version serves single-process stacks and tests.

/** Longest JSON payload an event may have: PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
export const MAX_CONTROL_EVENT_BYTES = 7_000;

/** One event between processes. Keep payloads small: ids and what changed, never content. */
export interface ControlEvent {
  /** What happened, e.g. `space.updated`, `turn.cancel`, `key.revoked`. */
  kind: string;
  /** The process that published it (see {@link ControlChannel.instanceId}). */
  instanceId: number;
  /** The space it concerns, when it concerns one: subscribers filter on it. */
  spaceId?: string;
  sessionId?: string;
  turnId?: string;
  /** Anything else small (JSON). */
  data?: Record<string, unknown>;
}

/** An event as published: the channel stamps `instanceId`. */
export type ControlEventInput = Omit<ControlEvent, 'instanceId'>;

/** Why the channel's listeners were told to re-check what they cache. */
export type ControlResyncReason = 'reconnected';

/**
 * Events between the processes of one database, and each process's liveness.
 *
 * - Delivery is at most once and only while connected: a listener that must not miss a change
 *   re-checks its state on `onResync` (after a reconnect, events sent meanwhile are lost).
 * - Events of one publisher arrive in its commit order; a process also receives its own events.
 * - `instanceId` is this process's identity while the channel is open; another process can tell
 *   whether it is alive (`PgControlChannel.instanceAliveSql`) without asking it.
 */
export interface ControlChannel {
  /** This process's identity: a positive 31-bit integer, unique among live processes of the database. */
  readonly instanceId: number;
  /** Starts listening (and, on PostgreSQL, takes the liveness lock). Idempotent. */
  start(): Promise<void>;
  /** Calls `listener` for every event from any process, this one included, until unsubscribed. */
  subscribe(listener: (event: ControlEvent) => void): () => void;
  /** Publishes an event to every process (after the publishing statement commits). */
  publish(event: ControlEventInput): Promise<void>;
  /** Calls `listener` when events may have been missed (after a reconnect). */
  onResync(listener: (reason: ControlResyncReason) => void): () => void;
  /** True when `instanceId` is a live process of this database (one statement on PostgreSQL). */
  isInstanceAlive(instanceId: number): Promise<boolean>;
  /** Stops listening and gives up the identity. Idempotent. */
  close(): Promise<void>;
}

/** The JSON text of an event, checked against the NOTIFY payload limit. */
export function encodeControlEvent(event: ControlEvent): string {
  const text = JSON.stringify(event);
  if (Buffer.byteLength(text, 'utf8') > MAX_CONTROL_EVENT_BYTES) {
    throw new RangeError(
      `a control event must stay under ${MAX_CONTROL_EVENT_BYTES} bytes of JSON (${event.kind})`,
    );
  }
  return text;
}

/** The event a payload carries, or `null` for anything that is not one of ours. */
export function decodeControlEvent(payload: string | undefined): ControlEvent | null {
  if (!payload) return null;
  try {
    const value = JSON.parse(payload) as Partial<ControlEvent> | null;
    if (!value || typeof value.kind !== 'string' || typeof value.instanceId !== 'number') return null;
    return value as ControlEvent;
  } catch {
    return null;
  }
}

/** Calls each listener, so one that throws never starves the others. */
export function dispatchTo<TValue>(
  listeners: ReadonlySet<(value: TValue) => void>,
  value: TValue,
  onError: (error: unknown) => void,
): void {
  for (const listener of [...listeners]) {
    try {
      listener(value);
    } catch (error) {
      onError(error);
    }
  }
}
