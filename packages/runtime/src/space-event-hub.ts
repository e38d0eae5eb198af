import type { ControlEvent } from '@stello-ai/storage';
import { isSpaceEventKind, type SpaceEventKind } from './space-events';

/** What the hub listens to: the process's control channel. */
export interface SpaceEventSource {
  subscribe(listener: (event: ControlEvent) => void): () => void;
}

/** A space event as a subscriber receives it. `id` counts up per subscription (SSE `id:`). */
export interface DeliveredSpaceEvent {
  id: number;
  kind: SpaceEventKind;
  spaceId: string;
  sessionId?: string;
  data?: Record<string, unknown>;
}

/** One subscriber: `deliver` writes an event out (awaited one at a time); `onOverflow` drops it. */
export interface SpaceEventSubscriber {
  deliver(event: DeliveredSpaceEvent): void | Promise<void>;
  /** The subscriber fell `maxQueued` events behind (or `deliver` threw): it is unsubscribed. */
  onOverflow(reason: string): void;
}

/** Options of {@link SpaceEventHub}. */
export interface SpaceEventHubOptions {
  /** Events one subscriber may have waiting before it is dropped (default 1000). */
  maxQueued?: number;
}

export const DEFAULT_SPACE_EVENT_QUEUE = 1_000;

interface Subscription {
  spaceId: string;
  subscriber: SpaceEventSubscriber;
  queue: DeliveredSpaceEvent[];
  nextId: number;
  pumping: boolean;
  closed: boolean;
}

/**
 * Fans the space events of the control channel (from every process, this one included) out to
 * the subscribers of each space, and only that space. Delivery is live: nothing is replayed, so
 * a client re-reads the state it shows after (re)subscribing. Each subscriber's queue is bounded.
 */
export class SpaceEventHub {
  readonly #maxQueued: number;
  readonly #bySpace = new Map<string, Set<Subscription>>();
  readonly #stop: () => void;

  constructor(source: SpaceEventSource, options: SpaceEventHubOptions = {}) {
    this.#maxQueued = options.maxQueued ?? DEFAULT_SPACE_EVENT_QUEUE;
    this.#stop = source.subscribe((event) => this.#dispatch(event));
  }

  /** Number of open subscriptions (all spaces). */
  get size(): number {
    let count = 0;
    for (const set of this.#bySpace.values()) count += set.size;
    return count;
  }

  /** Subscribes to the events of `spaceId` (the caller checked access). Returns the unsubscribe. */
  subscribe(spaceId: string, subscriber: SpaceEventSubscriber): () => void {
    const subscription: Subscription = {
      spaceId,
      subscriber,
      queue: [],
      nextId: 1,
      pumping: false,
      closed: false,
    };
    let set = this.#bySpace.get(spaceId);
    if (!set) {
      set = new Set();
      this.#bySpace.set(spaceId, set);
    }
    set.add(subscription);
    return () => this.#remove(subscription);
  }

  /** Stops listening to the source and drops every subscription. */
  close(): void {
    this.#stop();
    for (const set of this.#bySpace.values()) for (const s of set) s.closed = true;
    this.#bySpace.clear();
  }

  #dispatch(event: ControlEvent): void {
    if (!isSpaceEventKind(event.kind) || typeof event.spaceId !== 'string') return;
    const set = this.#bySpace.get(event.spaceId);
    if (!set) return;
    for (const subscription of set) {
      if (subscription.queue.length >= this.#maxQueued) {
        this.#remove(subscription);
        subscription.subscriber.onOverflow(`more than ${this.#maxQueued} space events waiting`);
        continue;
      }
      subscription.queue.push({
        id: subscription.nextId++,
        kind: event.kind,
        spaceId: event.spaceId,
        ...(event.sessionId !== undefined && { sessionId: event.sessionId }),
        ...(event.data !== undefined && { data: event.data }),
      });
      if (!subscription.pumping) void this.#pump(subscription);
    }
  }

  async #pump(subscription: Subscription): Promise<void> {
    subscription.pumping = true;
    try {
      while (!subscription.closed && subscription.queue.length > 0) {
        const next = subscription.queue.shift() as DeliveredSpaceEvent;
        await subscription.subscriber.deliver(next);
      }
    } catch (error) {
      this.#remove(subscription);
      subscription.subscriber.onOverflow(`delivery failed: ${(error as Error).message}`);
    } finally {
      subscription.pumping = false;
    }
  }

  #remove(subscription: Subscription): void {
    subscription.closed = true;
    subscription.queue.length = 0;
    const set = this.#bySpace.get(subscription.spaceId);
    if (!set) return;
    set.delete(subscription);
    if (set.size === 0) this.#bySpace.delete(subscription.spaceId);
  }
}
