/** A producer-driven async iterable: the producer pushes, one consumer pulls. */
export interface PushStream<T> {
  /** The consumer side. Iterating it more than once shares the same queue. */
  readonly iterable: AsyncIterable<T>;
  /** Queues a value; ignored after `end()` or once the consumer stopped iterating. */
  push(value: T): void;
  /** Ends the stream; with an error, the consumer receives it after the queued values. */
  end(error?: unknown): void;
  /** True once the consumer returned early (`break` in a `for await`); pushes are then dropped. */
  readonly detached: boolean;
}

/**
 * Creates a push stream with an unbounded buffer. The producer never waits for the consumer, and
 * a consumer that stops early (`break`, `return()`) never stops the producer: work behind the
 * stream (a turn's commit) completes anyway.
 */
export function createPushStream<T>(): PushStream<T> {
  const queue: T[] = [];
  let ended = false;
  let failure: { error: unknown } | null = null;
  let detached = false;
  let waiter: (() => void) | null = null;

  const wake = () => {
    const resolve = waiter;
    waiter = null;
    resolve?.();
  };

  const iterator: AsyncIterableIterator<T> = {
    async next(): Promise<IteratorResult<T>> {
      while (true) {
        if (detached) return { done: true, value: undefined };
        if (queue.length > 0) return { done: false, value: queue.shift() as T };
        if (failure) {
          const { error } = failure;
          failure = null;
          detached = true;
          throw error;
        }
        if (ended) return { done: true, value: undefined };
        await new Promise<void>((resolve) => {
          waiter = resolve;
        });
      }
    },
    async return(): Promise<IteratorResult<T>> {
      detached = true;
      queue.length = 0;
      failure = null;
      wake();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };

  return {
    iterable: { [Symbol.asyncIterator]: () => iterator },
    push(value: T) {
      if (ended || detached) return;
      queue.push(value);
      wake();
    },
    end(error?: unknown) {
      if (ended) return;
      ended = true;
      if (error !== undefined && !detached) failure = { error };
      wake();
    },
    get detached() {
      return detached;
    },
  };
}
