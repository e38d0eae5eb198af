import type { HttpClient } from '../http';
import { type RetryOptions, withRetries } from '../retry';
import { streamTurnOverSse } from '../stream/sse-turn';
import type { TurnStream } from '../stream/turn-stream';
import type { CancelTurnResult, TurnConcurrency, TurnInfo, TurnResult } from '../wire';
import { type SessionRef, sessionPath, type TurnRef } from './options';

/** A turn to run. */
export interface SendTurnOptions extends SessionRef {
  /** The user's message (1–100 000 characters). */
  input: string;
  /** The turn's id; a new UUID when absent. The same id again never runs the turn twice. */
  turnId?: string;
  /** When the session is busy: wait (`enqueue`, the default) or fail with `SESSION_BUSY` (`reject`). */
  concurrency?: TurnConcurrency;
  /**
   * Retries of failures that are safe to retry with the same turn id (network, 503, 504,
   * `TURN_CONFLICT`, `TOO_MANY_TURNS`): default 2 for `send`, 8 resumes for streams; `false` never retries.
   */
  retry?: RetryOptions | false;
}

/** `client.turns`: run a turn, read its status, cancel it, follow its frames. */
export class TurnsApi {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  /**
   * `POST …/sessions/:id/turn`: runs a turn and resolves with its result once stored. The turn id
   * is chosen here (or given), so a failure that may have reached the server is retried with the
   * same id: the server runs the turn once and answers the retry with the first attempt's result.
   */
  async send(options: SendTurnOptions): Promise<TurnResult> {
    const { signal, input, concurrency } = options;
    const turnId = options.turnId ?? crypto.randomUUID();
    const attempt = async () =>
      (
        await this.#http.json<TurnResult>({
          method: 'POST',
          path: `${sessionPath(options)}/turn`,
          body: { input, turnId, ...(concurrency && { concurrency }) },
          signal,
        })
      ).data;
    if (options.retry === false) return attempt();
    return withRetries(attempt, { ...options.retry, signal });
  }

  /** `GET …/turns/:turnId`: where the turn stands, with its result once completed. */
  async get({ signal, turnId, ...ref }: TurnRef): Promise<TurnInfo> {
    const path = `${sessionPath(ref)}/turns/${encodeURIComponent(turnId)}`;
    return (await this.#http.json<TurnInfo>({ method: 'GET', path, signal })).data;
  }

  /** `POST …/turns/:turnId/cancel`: aborts the turn wherever it runs (or before it starts). */
  async cancel({ signal, turnId, ...ref }: TurnRef): Promise<CancelTurnResult> {
    const path = `${sessionPath(ref)}/turns/${encodeURIComponent(turnId)}/cancel`;
    return (await this.#http.json<CancelTurnResult>({ method: 'POST', path, signal })).data;
  }

  /**
   * `GET …/turns/:turnId/events`: the frames of a turn after `afterSeq` (0: all the server still
   * keeps), then its end; resumes by itself when the stream breaks.
   */
  events(options: TurnRef & { afterSeq?: number; retry?: RetryOptions | false }): TurnStream {
    const { spaceId, sessionId, turnId } = options;
    return streamTurnOverSse({
      http: this.#http,
      spaceId,
      sessionId,
      turnId,
      afterSeq: options.afterSeq,
      signal: options.signal,
      reconnect: options.retry,
      cancel: async () => {
        await this.cancel({ spaceId, sessionId, turnId });
      },
    });
  }
}
