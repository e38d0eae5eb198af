/** A promise with its resolver, for tests that need to hold something open. */
export function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Resolves after every pending microtask and timer of this tick has run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
