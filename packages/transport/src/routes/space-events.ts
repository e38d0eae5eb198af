import type { DeliveredSpaceEvent, SpaceEventHub } from '@stello-ai/runtime';
import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { SpaceEnv } from '../middleware/space-access';

/** Interval of the SSE heartbeat comment that keeps proxies from closing an idle stream. */
export const SPACE_EVENTS_HEARTBEAT_MS = 15_000;

/** What the space events route needs. */
export interface SpaceEventsDeps {
  spaceEvents: Pick<SpaceEventHub, 'subscribe'>;
  /** Heartbeat interval in ms (default 15 s). */
  heartbeatMs?: number;
}

/**
 * `GET /spaces/:spaceId/events`: the space's events as Server-Sent Events, live only (no replay,
 * `Last-Event-ID` is ignored: a client re-reads the state after reconnecting). `id:` counts up per
 * stream. A subscriber that falls too far behind gets an `error` event (`SLOW_SUBSCRIBER`) and
 * the stream ends. Access is checked by the space middleware before this runs.
 */
export function registerSpaceEventRoutes(space: Hono<SpaceEnv>, deps: SpaceEventsDeps): void {
  const heartbeatMs = deps.heartbeatMs ?? SPACE_EVENTS_HEARTBEAT_MS;
  space.get('/events', (c) => {
    const spaceId = c.get('space').id;
    return streamSSE(c, async (stream) => {
      let finish: () => void = () => {};
      const done = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const unsubscribe = deps.spaceEvents.subscribe(spaceId, {
        deliver: (event: DeliveredSpaceEvent) =>
          stream.writeSSE({ id: String(event.id), event: event.kind, data: JSON.stringify(event) }),
        onOverflow: (reason) => {
          void stream
            .writeSSE({ event: 'error', data: JSON.stringify({ code: 'SLOW_SUBSCRIBER', error: reason }) })
            .finally(finish);
        },
      });
      const heartbeat = setInterval(() => {
        void stream.write(': heartbeat\n\n');
      }, heartbeatMs);
      heartbeat.unref();
      stream.onAbort(finish);
      await stream.write(': subscribed\n\n');
      await done;
      clearInterval(heartbeat);
      unsubscribe();
    });
  });
}
