import { describe, expect, it } from 'vitest';
import { KeyRateLimiter, RATE_WINDOW_MS } from './key-rate-limiter';

function limiterAt(start: number) {
  let now = start;
  const limiter = new KeyRateLimiter({ now: () => now });
  return { limiter, advance: (ms: number) => (now += ms) };
}

describe('KeyRateLimiter', () => {
  it('allows up to the limit in a window, then refuses with the time left in the window', () => {
    const { limiter, advance } = limiterAt(RATE_WINDOW_MS * 10);
    expect(limiter.tryTake('k', 2)).toEqual({ allowed: true });
    expect(limiter.tryTake('k', 2)).toEqual({ allowed: true });
    advance(15_000);
    expect(limiter.tryTake('k', 2)).toEqual({ allowed: false, retryAfterMs: 45_000 });
  });

  it('opens a fresh budget in the next window and counts keys apart', () => {
    const { limiter, advance } = limiterAt(0);
    expect(limiter.tryTake('a', 1).allowed).toBe(true);
    expect(limiter.tryTake('a', 1).allowed).toBe(false);
    expect(limiter.tryTake('b', 1).allowed).toBe(true);
    advance(RATE_WINDOW_MS);
    expect(limiter.tryTake('a', 1).allowed).toBe(true);
  });

  it('treats a limit of 0 as unlimited and does not count it', () => {
    const { limiter } = limiterAt(0);
    for (let i = 0; i < 5; i++) expect(limiter.tryTake('k', 0).allowed).toBe(true);
    expect(limiter.localUsage('k').count).toBe(0);
  });

  it("counts other processes' synced use of the current window only", () => {
    const { limiter, advance } = limiterAt(0);
    limiter.recordRemoteUsage('k', 0, 3);
    expect(limiter.tryTake('k', 4).allowed).toBe(true);
    expect(limiter.tryTake('k', 4).allowed).toBe(false);
    expect(limiter.localUsage('k')).toEqual({ windowStart: 0, count: 1 });
    advance(RATE_WINDOW_MS);
    limiter.recordRemoteUsage('k', 0, 100);
    expect(limiter.tryTake('k', 4).allowed).toBe(true);
  });
});
