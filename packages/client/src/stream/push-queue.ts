/**
 * An async iterator fed by pushes: items wait until read, a reader waits until an item comes.
 * One reader. `end()` finishes it after the queued items; `fail()` rejects the next read once the
 * queued items are read. `return()` (a `break` in `for await`) ends it and calls `onReturn`.
 */
export class PushQueue<TItem> implements AsyncIterableIterator<TItem> {
  readonly #items: TItem[] = [];
  #reader: { resolve: (result: IteratorResult<TItem>) => void; reject: (error: unknown) => void } | null =
    null;
  #ended = false;
  #failure: { error: unknown } | null = null;
  readonly #onReturn: (() => void) | undefined;

  constructor(onReturn?: () => void) {
    this.#onReturn = onReturn;
  }

  /** True once ended or failed: later pushes are ignored. */
  get closed(): boolean {
    return this.#ended || this.#failure !== null;
  }

  push(item: TItem): void {
    if (this.closed) return;
    const reader = this.#reader;
    if (reader) {
      this.#reader = null;
      reader.resolve({ value: item, done: false });
    } else this.#items.push(item);
  }

  end(): void {
    if (this.closed) return;
    this.#ended = true;
    this.#wakeWithEnd();
  }

  fail(error: unknown): void {
    if (this.closed) return;
    this.#failure = { error };
    this.#wakeWithEnd();
  }

  next(): Promise<IteratorResult<TItem>> {
    if (this.#items.length > 0) return Promise.resolve({ value: this.#items.shift() as TItem, done: false });
    if (this.#failure) {
      const { error } = this.#failure;
      // Reported once; later reads see the end.
      this.#failure = { error: undefined };
      this.#ended = true;
      return error === undefined ? Promise.resolve(done()) : Promise.reject(error);
    }
    if (this.#ended) return Promise.resolve(done());
    return new Promise((resolve, reject) => {
      this.#reader = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<TItem>> {
    const wasOpen = !this.closed;
    this.#items.length = 0;
    this.#ended = true;
    this.#failure = null;
    this.#wakeWithEnd();
    if (wasOpen) this.#onReturn?.();
    return Promise.resolve(done());
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #wakeWithEnd(): void {
    const reader = this.#reader;
    if (!reader) return;
    this.#reader = null;
    if (this.#failure && this.#failure.error !== undefined) {
      const { error } = this.#failure;
      this.#failure = { error: undefined };
      reader.reject(error);
    } else reader.resolve(done());
  }
}

function done<TItem>(): IteratorResult<TItem> {
  return { value: undefined, done: true };
}
