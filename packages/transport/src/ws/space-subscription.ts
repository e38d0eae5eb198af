import type { SpaceSubscriptionFrame } from '@stello-ai/protocol';
import type { SpaceEventHub } from '@stello-ai/runtime';
import { TransportError } from '../errors';

// `space.subscribe` / `space.unsubscribe` of the WebSocket protocol: the connection's space's
// events, live only, as `space.event` frames. Kept out of the connection class on purpose.

export type { SpaceSubscriptionFrame };

/** One connection's subscription to its space's events (at most one). */
export class SpaceSubscription {
  #stop: (() => void) | null = null;

  constructor(
    private readonly hub: Pick<SpaceEventHub, 'subscribe'> | undefined,
    /** The space the connection was authorized for at the upgrade (its key's user owns it). */
    private readonly spaceId: string,
    private readonly send: (frame: SpaceSubscriptionFrame) => void,
    /** Called when the subscriber fell too far behind: the connection is closed. */
    private readonly onOverflow: (reason: string) => void,
  ) {}

  subscribe(spaceId: string): void {
    this.#checkSpace(spaceId);
    if (this.#stop === null) {
      this.#stop = (this.hub as Pick<SpaceEventHub, 'subscribe'>).subscribe(spaceId, {
        deliver: (event) => this.send({ type: 'space.event', event }),
        onOverflow: (reason) => {
          this.#stop = null;
          this.onOverflow(reason);
        },
      });
    }
    this.send({ type: 'space.subscribed', spaceId });
  }

  unsubscribe(spaceId: string): void {
    this.#checkSpace(spaceId);
    this.close();
    this.send({ type: 'space.unsubscribed', spaceId });
  }

  close(): void {
    this.#stop?.();
    this.#stop = null;
  }

  #checkSpace(spaceId: string): void {
    if (!this.hub) throw new TransportError('UNAVAILABLE', 'space events are not enabled on this server');
    // Access was checked at the upgrade for this space only; another space needs its own socket.
    if (spaceId !== this.spaceId) {
      throw new TransportError('FORBIDDEN', 'subscribe to a space on a WebSocket of that space');
    }
  }
}
