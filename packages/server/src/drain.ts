import type { StelloAgent } from '@stello-ai/core';

// Polling is the only contract-level way to observe `activeTurnCount`; 25 ms costs nothing.
const DRAIN_POLL_INTERVAL_MS = 25;

/** Resolves after `ms` without holding the process open. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** `promise`'s value, or `'timeout'` when it takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until no turn runs on `agents` or `timeoutMs` passed; resolves to the turns still running. */
export async function waitForTurns(agents: StelloAgent[], timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = agents.reduce((sum, agent) => sum + agent.activeTurnCount, 0);
    if (running === 0 || Date.now() >= deadline) return running;
    await delay(DRAIN_POLL_INTERVAL_MS);
  }
}
