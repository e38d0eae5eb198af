import type { SpaceEvent } from '@stello-ai/client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { createConsoleClient } from '../api/console-client';

/** Where the space's live events stand. */
export type LiveStatus = 'connecting' | 'live' | 'retrying';

// A dropped stream is opened again after 1 s, doubling to 15 s.
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 15_000;

/**
 * Follows `GET /spaces/:spaceId/events` while the space is open: calls `onEvent` for each change
 * another client (or this page) makes, and `onResync` each time the stream opens again, since
 * events are live only and what happened while it was closed must be re-read.
 */
export function useSpaceEvents(
  apiKey: string,
  spaceId: string,
  onEvent: (event: SpaceEvent) => void,
  onResync: () => void,
): LiveStatus {
  const [status, setStatus] = useState<LiveStatus>('connecting');
  // The latest callbacks, without reopening the stream when they change.
  const handlers = useRef({ onEvent, onResync });
  handlers.current = { onEvent, onResync };

  useEffect(() => {
    const abort = new AbortController();
    let opened = 0;
    const client = createConsoleClient(apiKey, (response) => {
      if (!response.ok || !new URL(response.url).pathname.endsWith('/events')) return;
      opened += 1;
      setStatus('live');
      if (opened > 1) handlers.current.onResync();
    });
    const follow = async () => {
      let retryMs = FIRST_RETRY_MS;
      while (!abort.signal.aborted) {
        try {
          for await (const event of client.spaces.events({ spaceId, signal: abort.signal })) {
            retryMs = FIRST_RETRY_MS;
            handlers.current.onEvent(event);
          }
        } catch {
          // Dropped, refused or too slow: try again below.
        }
        if (abort.signal.aborted) return;
        setStatus('retrying');
        await new Promise((resolve) => setTimeout(resolve, retryMs));
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      }
    };
    void follow();
    return () => abort.abort();
  }, [apiKey, spaceId]);

  return status;
}
