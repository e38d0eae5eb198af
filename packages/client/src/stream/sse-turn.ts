import { isStelloError, StelloApiError } from '../errors';
import { type HttpClient, segment } from '../http';
import { backoffDelayMs, type RetryOptions, sleep } from '../retry';
import type { TurnConcurrency } from '../wire';
import { parseSse } from './sse';
import { createTurnStream, type TurnStream } from './turn-stream';

const DEFAULT_SSE_RETRIES = 8;

/** What {@link streamTurnOverSse} follows. */
export interface SseTurnOptions {
  http: HttpClient;
  spaceId: string;
  sessionId: string;
  turnId: string;
  /** Starts the turn (`POST …/stream`); without it, follows an existing turn (`GET …/events`). */
  start?: { input: string; concurrency?: TurnConcurrency | undefined };
  /** Frames up to this seq are skipped (a resume). */
  afterSeq?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Resumes after a broken stream (default 8 retries); `false` fails at once. */
  reconnect?: RetryOptions | false | undefined;
  /** What the stream's `cancel()` does. */
  cancel(): Promise<void>;
}

/**
 * A turn streamed over Server-Sent Events on `fetch`: `POST …/sessions/:id/stream` starts it (sent
 * again with the same turn id when it never got an answer), and a broken stream resumes with
 * `GET …/turns/:turnId/events` and `Last-Event-ID`, so no frame is lost or repeated.
 */
export function streamTurnOverSse(options: SseTurnOptions): TurnStream {
  const detach = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, detach.signal]) : detach.signal;
  const sink = createTurnStream(options.turnId, {
    cancel: options.cancel,
    onDetach: () => detach.abort(new DOMException('the reader stopped reading the stream', 'AbortError')),
  });
  const { http, spaceId, sessionId, turnId, start } = options;
  const base = `/spaces/${segment(spaceId)}/sessions/${segment(sessionId)}`;
  const retries = options.reconnect === false ? 0 : (options.reconnect?.retries ?? DEFAULT_SSE_RETRIES);

  const open = (started: boolean): Promise<Response> => {
    if (start && !started) {
      return http.send({
        method: 'POST',
        path: `${base}/stream`,
        body: { input: start.input, turnId, ...(start.concurrency && { concurrency: start.concurrency }) },
        signal,
      });
    }
    const after = Math.max(sink.stream.lastSeq, options.afterSeq ?? 0);
    return http.send({
      method: 'GET',
      path: `${base}/turns/${segment(turnId)}/events`,
      headers: { 'Last-Event-ID': String(after) },
      signal,
    });
  };

  const pump = async () => {
    // The turn exists on the server once the POST got an answer; until then a retry re-sends it.
    let started = !start;
    for (let failures = 0; ; ) {
      try {
        const response = await open(started);
        started = true;
        if (!response.body) throw new StelloApiError('INVALID_RESPONSE', 'the event stream has no body');
        for await (const event of parseSse(response.body)) {
          if (event.event === 'turn.started') continue;
          if (sink.accept(JSON.parse(event.data))) return;
          failures = 0;
        }
        // The body ended without the turn's end (a proxy or the server cut it): resume.
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (isStelloError(error) && error.code !== 'NETWORK_ERROR' && error.status < 500) throw error;
      }
      failures += 1;
      if (failures > retries) {
        throw new StelloApiError('CONNECTION_LOST', `the event stream of turn "${turnId}" broke off`);
      }
      await sleep(backoffDelayMs(failures, options.reconnect || {}), signal);
    }
  };
  pump().catch((error: unknown) => sink.fail(error));
  return sink.stream;
}
