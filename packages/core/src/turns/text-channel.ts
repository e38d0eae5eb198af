/**
 * A one-consumer async iterable of text fed by a producer: pushed text is buffered until read,
 * `close()` ends the iteration, `fail(error)` ends it with `error` after the buffered text.
 * A consumer that stops early (`break`) only stops reading; the producer is not cancelled.
 * @internal
 */
export class TextChannel implements AsyncIterable<string> {
  #buffer: string[] = [];
  #waiting: ((result: IteratorResult<string>) => void) | null = null;
  #failWaiting: ((error: unknown) => void) | null = null;
  #ended = false;
  #error: { value: unknown } | null = null;
  #detached = false;

  /** Delivers `text` to the consumer (ignored once ended or after the consumer stopped). */
  push(text: string): void {
    if (this.#ended || this.#detached || text === '') return;
    if (this.#waiting) {
      const resolve = this.#waiting;
      this.#clearWaiter();
      resolve({ value: text, done: false });
      return;
    }
    this.#buffer.push(text);
  }

  /** Ends the iteration once the buffered text is read. */
  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#waiting) {
      const resolve = this.#waiting;
      this.#clearWaiter();
      resolve({ value: undefined, done: true });
    }
  }

  /** Ends the iteration with `error` once the buffered text is read. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = { value: error };
    if (this.#failWaiting) {
      const reject = this.#failWaiting;
      this.#clearWaiter();
      reject(error);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<string> {
    return {
      next: () => {
        const text = this.#buffer.shift();
        if (text !== undefined) return Promise.resolve({ value: text, done: false });
        if (this.#ended || this.#detached) {
          if (this.#error && !this.#detached) {
            const error = this.#error.value;
            this.#error = null;
            return Promise.reject(error);
          }
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise<IteratorResult<string>>((resolve, reject) => {
          this.#waiting = resolve;
          this.#failWaiting = reject;
        });
      },
      return: () => {
        this.#detached = true;
        this.#buffer = [];
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  #clearWaiter(): void {
    this.#waiting = null;
    this.#failWaiting = null;
  }
}
