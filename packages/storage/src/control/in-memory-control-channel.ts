import {
  type ControlChannel,
  type ControlEvent,
  type ControlEventInput,
  type ControlResyncReason,
  dispatchTo,
  encodeControlEvent,
} from './control-channel';

/**
 * What several in-memory control channels share, standing in for one database: each channel is
 * one "process". Events are delivered asynchronously (a microtask later), as NOTIFY is.
 *
 * @example
 * ```ts
 * const bus = new InMemoryControlBus();
 * const a = bus.channel(); const b = bus.channel();
 * await a.start(); await b.start();
 * b.subscribe((event) => console.log(event.kind));
 * await a.publish({ kind: 'space.updated', spaceId });
 * ```
 */
export class InMemoryControlBus {
  readonly #channels = new Set<InMemoryControlChannel>();
  #nextId = 1;

  /** A new channel on this bus (not started). */
  channel(options: { onError?: (error: unknown) => void } = {}): InMemoryControlChannel {
    return new InMemoryControlChannel(this, options.onError);
  }

  /** @internal */
  join(channel: InMemoryControlChannel): number {
    this.#channels.add(channel);
    return this.#nextId++;
  }

  /** @internal */
  leave(channel: InMemoryControlChannel): void {
    this.#channels.delete(channel);
  }

  /** @internal */
  isAlive(instanceId: number): boolean {
    for (const channel of this.#channels) if (channel.instanceId === instanceId) return true;
    return false;
  }

  /** @internal */
  deliver(event: ControlEvent): void {
    for (const channel of [...this.#channels]) channel.receive(event);
  }
}

/** A control channel of an {@link InMemoryControlBus}; see `ControlChannel`. */
export class InMemoryControlChannel implements ControlChannel {
  readonly #bus: InMemoryControlBus;
  readonly #onError: (error: unknown) => void;
  readonly #listeners = new Set<(event: ControlEvent) => void>();
  readonly #resyncListeners = new Set<(reason: ControlResyncReason) => void>();
  #instanceId = 0;
  #closed = false;

  constructor(
    bus: InMemoryControlBus = new InMemoryControlBus(),
    onError: (error: unknown) => void = () => {},
  ) {
    this.#bus = bus;
    this.#onError = onError;
  }

  get instanceId(): number {
    return this.#instanceId;
  }

  async start(): Promise<void> {
    if (this.#closed) throw new Error('the control channel is closed');
    if (this.#instanceId === 0) this.#instanceId = this.#bus.join(this);
  }

  subscribe(listener: (event: ControlEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onResync(listener: (reason: ControlResyncReason) => void): () => void {
    this.#resyncListeners.add(listener);
    return () => this.#resyncListeners.delete(listener);
  }

  async publish(event: ControlEventInput): Promise<void> {
    if (this.#instanceId === 0) throw new Error('the control channel is not started');
    const full: ControlEvent = { ...event, instanceId: this.#instanceId };
    encodeControlEvent(full);
    // Listeners see a copy, as they would see a parsed payload.
    const copy = JSON.parse(JSON.stringify(full)) as ControlEvent;
    queueMicrotask(() => this.#bus.deliver(copy));
  }

  async isInstanceAlive(instanceId: number): Promise<boolean> {
    return this.#bus.isAlive(instanceId);
  }

  /** Simulates a reconnect: listeners are told that events may have been missed. */
  resync(): void {
    dispatchTo(this.#resyncListeners, 'reconnected' as const, this.#onError);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#bus.leave(this);
    this.#listeners.clear();
    this.#resyncListeners.clear();
  }

  /** @internal */
  receive(event: ControlEvent): void {
    if (!this.#closed) dispatchTo(this.#listeners, event, this.#onError);
  }
}
