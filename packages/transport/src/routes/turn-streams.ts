import type { StelloAgent, TurnOptions, TurnProgressEvent } from '@stello-ai/core';
import { isCodedError } from '@stello-ai/errors';
import type { Logger } from '@stello-ai/runtime';
import type { Context, Hono } from 'hono';
import { type SSEStreamingApi, streamSSE } from 'hono/streaming';
import { admitTurn } from '../admission';
import { toPublicError } from '../error-mapping';
import { followTurn } from '../live/follow-turn';
import type { SeqFrame, TurnHub } from '../live/turn-hub';
import { admitKeyTurn } from '../middleware/rate-limit';
import type { SpaceEnv } from '../middleware/space-access';
import { runLoggedTurn } from '../turn-log';
import type { TransportDeps } from '../types';
import { readJsonBody, turnBody, uuidParam } from '../validation';
import { requestTurnId } from './turn-id';

/** Comment lines that keep idle proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;
/** Reconnect hint for EventSource clients. */
const RETRY_MS = 1_000;

async function writeFrame(stream: SSEStreamingApi, frame: SeqFrame): Promise<void> {
  await stream.writeSSE({ id: String(frame.seq), event: frame.type, data: JSON.stringify(frame) });
}

/** Sends `: heartbeat` comments until `stop` is called. */
function heartbeat(stream: SSEStreamingApi): () => void {
  const timer = setInterval(() => {
    stream.write(': heartbeat\n\n').catch(() => {});
  }, HEARTBEAT_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** The turn's progress as seq'd frames, in order, ending with its terminal frame. */
async function* turnFrames(
  agent: StelloAgent,
  sessionId: string,
  input: string,
  options: TurnOptions,
  onTurnId: (turnId: string) => void,
): AsyncGenerator<SeqFrame> {
  const queue: SeqFrame[] = [];
  let wake: (() => void) | null = null;
  let finished = false;
  let seq = 0;
  let turnId = '';
  const push = (frame: Omit<SeqFrame, 'seq' | 'turnId'>) => {
    // Deltas that pile up while the response is being written leave as one event (same text).
    const last = queue.at(-1);
    if (frame.type === 'stream.delta' && last?.type === 'stream.delta') {
      last.chunk = `${last.chunk as string}${frame.chunk as string}`;
      return;
    }
    seq += 1;
    queue.push({ ...frame, turnId, seq } as SeqFrame);
    wake?.();
  };
  const onEvent = (event: TurnProgressEvent) => {
    if (event.type === 'delta') push({ type: 'stream.delta', chunk: event.text });
    else push({ ...event });
  };
  const stream = agent.stream(sessionId, input, { ...options, onEvent });
  turnId = stream.turnId;
  onTurnId(turnId);
  const drained = (async () => {
    for await (const _chunk of stream) {
      // The deltas arrive through onEvent; the iteration only keeps the stream flowing.
    }
  })();
  stream.result.then(
    (result) => push({ type: 'stream.end', result }),
    (error: unknown) => {
      if (isCodedError(error, 'TURN_CANCELLED') || isCodedError(error, 'ABORTED'))
        push({ type: 'turn.cancelled' });
      else {
        const { code, message } = toPublicError(error);
        push({ type: 'error', code, message });
      }
    },
  );
  drained.catch(() => {});
  while (!finished) {
    if (queue.length === 0) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = null;
      continue;
    }
    const frame = queue.shift() as SeqFrame;
    if (frame.type === 'stream.end' || frame.type === 'turn.cancelled' || frame.type === 'error')
      finished = true;
    yield frame;
  }
}

/**
 * HTTP streaming for clients without WebSocket: `POST …/sessions/:id/stream` answers
 * `text/event-stream` with the frames of the WebSocket stream (`id:` = seq, the turn id in the
 * `X-Turn-Id` header and in every frame); `GET …/sessions/:id/turns/:turnId/events` resumes after
 * `Last-Event-ID` (or `?after=`, the header winning). A disconnect does not cancel the turn.
 */
export function registerTurnStreamRoutes(
  app: Hono<SpaceEnv>,
  deps: TransportDeps,
  hub: TurnHub,
  logger: Logger,
): void {
  app.post('/sessions/:id/stream', async (c) => {
    const sessionId = uuidParam(c, 'id');
    const body = await readJsonBody(c, turnBody);
    const turnId = requestTurnId(body.turnId, c.req.header('idempotency-key'));
    // The stream slot is held until the turn ends (a client that goes away does not end it).
    const releaseKey = admitKeyTurn(deps.keyLimits, c.get('userId'), logger, {
      transport: 'rest',
      stream: true,
      requestId: c.get('requestId'),
    });
    let releaseUser: () => void = () => {};
    const release = (): void => {
      releaseKey();
      releaseUser();
    };
    let first: IteratorResult<SeqFrame>;
    let frames: AsyncGenerator<SeqFrame>;
    let streamTurnId = turnId ?? '';
    try {
      const agent = await deps.agentPool.getAgent(c.get('space').id);
      releaseUser = await admitTurn(deps, c.get('userId'));
      const options: TurnOptions = {
        ...(turnId !== undefined && { turnId }),
        ...(body.concurrency !== undefined && { concurrency: body.concurrency }),
      };
      frames = turnFrames(agent, sessionId, body.input, options, (id) => {
        streamTurnId = id;
      });
      // The first frame is awaited before answering, so a refused turn is a plain JSON error.
      first = await frames.next();
    } catch (error) {
      release();
      throw error;
    }
    c.header('X-Turn-Id', streamTurnId);
    return streamSSE(c, async (stream) => {
      const stop = heartbeat(stream);
      const context = {
        transport: 'rest' as const,
        requestId: c.get('requestId'),
        spaceId: c.get('space').id,
        sessionId,
        stream: true,
      };
      try {
        await stream.writeSSE({
          retry: RETRY_MS,
          data: JSON.stringify({ type: 'turn.started', turnId: streamTurnId }),
          event: 'turn.started',
        });
        await runLoggedTurn(logger, context, async () => {
          let last: SeqFrame | undefined;
          for (let step = first; !step.done; step = await frames.next()) {
            last = step.value;
            hub.record(last);
            // A client that went away no longer gets frames; the turn completes and is stored.
            if (!stream.aborted) await writeFrame(stream, last);
          }
          if (last?.type !== 'stream.end')
            throw Object.assign(new Error('the turn did not complete'), {
              code: last?.code ?? 'TURN_CANCELLED',
            });
          return last.result as Awaited<ReturnType<StelloAgent['turn']>>;
        }).catch(() => {});
      } finally {
        release();
        stop();
      }
    });
  });

  app.get('/sessions/:id/turns/:turnId/events', async (c) => {
    const sessionId = uuidParam(c, 'id');
    const turnId = uuidParam(c, 'turnId');
    const afterSeq = resumePoint(c);
    const agent = await deps.agentPool.getAgent(c.get('space').id);
    const frames = followTurn(agent, hub, sessionId, turnId, afterSeq, undefined, deps.turnRelay);
    // An unknown turn answers 404 before the stream starts.
    const first = await frames.next();
    c.header('X-Turn-Id', turnId);
    return streamSSE(c, async (stream) => {
      const stop = heartbeat(stream);
      try {
        for (let step = first; !step.done && !stream.aborted; step = await frames.next()) {
          await writeFrame(stream, step.value);
        }
      } finally {
        stop();
      }
    });
  });
}

/** Where a resume starts: `Last-Event-ID`, else `?after=`, else 0. */
function resumePoint(c: Context): number {
  const raw = c.req.header('last-event-id') ?? c.req.query('after') ?? '0';
  return /^\d{1,9}$/.test(raw.trim()) ? Number(raw.trim()) : 0;
}
