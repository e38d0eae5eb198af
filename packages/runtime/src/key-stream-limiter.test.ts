import { describe, expect, it } from 'vitest';
import { KeyStreamLimiter } from './key-stream-limiter';

describe('KeyStreamLimiter', () => {
  it('refuses a stream past the cap until one is released, and releases once only', () => {
    const limiter = new KeyStreamLimiter({ retryAfterMs: 700 });
    const first = limiter.tryOpen('k', 2);
    const second = limiter.tryOpen('k', 2);
    expect(first.allowed && second.allowed).toBe(true);
    expect(limiter.tryOpen('k', 2)).toEqual({ allowed: false, retryAfterMs: 700 });
    expect(limiter.tryOpen('other', 2).allowed).toBe(true);
    if (first.allowed) {
      first.release();
      first.release();
    }
    expect(limiter.localOpen('k')).toBe(1);
    expect(limiter.tryOpen('k', 2).allowed).toBe(true);
    expect(limiter.tryOpen('k', 2).allowed).toBe(false);
  });

  it("counts the other processes' open streams against the cap", () => {
    const limiter = new KeyStreamLimiter();
    limiter.replaceRemoteStreams(new Map([['k', 2]]));
    expect(limiter.tryOpen('k', 3).allowed).toBe(true);
    expect(limiter.tryOpen('k', 3).allowed).toBe(false);
    limiter.replaceRemoteStreams(new Map());
    expect(limiter.tryOpen('k', 3).allowed).toBe(true);
    expect(limiter.localStreams()).toEqual([{ key: 'k', count: 2 }]);
  });

  it('neither refuses nor counts under a cap of 0', () => {
    const limiter = new KeyStreamLimiter();
    for (let i = 0; i < 5; i++) expect(limiter.tryOpen('k', 0).allowed).toBe(true);
    expect(limiter.localStreams()).toEqual([]);
  });
});
