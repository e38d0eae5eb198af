import { InMemoryRateLimitStore } from '@stello-ai/storage';
import { describe, expect, it } from 'vitest';
import { KeyLimits } from './key-limits';
import { RATE_WINDOW_MS } from './key-rate-limiter';
import type { Logger } from './logger';

const KEY = '11111111-1111-4111-8111-111111111111';

function clock(start = RATE_WINDOW_MS * 100) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('KeyLimits', () => {
  it('applies the defaults in one process without a store', () => {
    const limits = new KeyLimits({ turnsPerMinute: 2, concurrentStreams: 1 });
    expect(limits.takeTurn(KEY).allowed).toBe(true);
    expect(limits.takeTurn(KEY).allowed).toBe(true);
    expect(limits.takeTurn(KEY).allowed).toBe(false);
    const stream = limits.openStream(KEY);
    expect(stream.allowed).toBe(true);
    expect(limits.openStream(KEY).allowed).toBe(false);
  });

  it("refuses a key's turn once the processes' combined use reaches the limit, after a sync", async () => {
    const time = clock();
    const store = new InMemoryRateLimitStore({ now: time.now });
    const a = new KeyLimits({ turnsPerMinute: 3, store, now: time.now, processId: 'a' });
    const b = new KeyLimits({ turnsPerMinute: 3, store, now: time.now, processId: 'b' });
    expect(a.takeTurn(KEY).allowed).toBe(true);
    expect(a.takeTurn(KEY).allowed).toBe(true);
    await a.sync();
    await b.sync();
    expect(b.takeTurn(KEY).allowed).toBe(true);
    time.advance(10_000);
    expect(b.takeTurn(KEY)).toEqual({ allowed: false, retryAfterMs: RATE_WINDOW_MS - 10_000 });
    // A new window opens a fresh budget everywhere.
    time.advance(RATE_WINDOW_MS);
    await b.sync();
    expect(b.takeTurn(KEY).allowed).toBe(true);
  });

  it("uses a key's own limits from the store over the defaults (0: none)", async () => {
    const store = new InMemoryRateLimitStore();
    await store.setKeyLimits(KEY, { turnsPerMinute: 1, concurrentStreams: 0 });
    const limits = new KeyLimits({ turnsPerMinute: 100, concurrentStreams: 1, store });
    await limits.sync();
    expect(limits.turnsPerMinuteOf(KEY)).toBe(1);
    expect(limits.concurrentStreamsOf(KEY)).toBe(0);
    expect(limits.concurrentStreamsOf('22222222-2222-4222-8222-222222222222')).toBe(1);
    expect(limits.takeTurn(KEY).allowed).toBe(true);
    expect(limits.takeTurn(KEY).allowed).toBe(false);
    for (let i = 0; i < 3; i++) expect(limits.openStream(KEY).allowed).toBe(true);
  });

  it("counts another process's open streams until they end", async () => {
    const store = new InMemoryRateLimitStore();
    const a = new KeyLimits({ concurrentStreams: 2, store, processId: 'a' });
    const b = new KeyLimits({ concurrentStreams: 2, store, processId: 'b' });
    const one = a.openStream(KEY);
    const two = a.openStream(KEY);
    await a.sync();
    await b.sync();
    expect(b.openStream(KEY).allowed).toBe(false);
    if (one.allowed) one.release();
    if (two.allowed) two.release();
    await a.sync();
    await b.sync();
    expect(b.openStream(KEY).allowed).toBe(true);
  });

  it('only looks for per-key limits every 5 s while nothing is limited, and reports a failing store once', async () => {
    const time = clock();
    const store = new InMemoryRateLimitStore();
    const calls: string[] = [];
    const syncUsage = store.syncUsage.bind(store);
    const listKeyLimits = store.listKeyLimits.bind(store);
    store.syncUsage = async (sync) => {
      calls.push(`sync:${sync.usage.length}`);
      return syncUsage(sync);
    };
    store.listKeyLimits = async () => {
      calls.push('limits');
      return listKeyLimits();
    };
    const limits = new KeyLimits({ store, now: time.now });
    limits.takeTurn(KEY);
    await limits.sync();
    time.advance(1_000);
    await limits.sync();
    expect(calls).toEqual(['limits']);
    // A limit set meanwhile (the CLI) is found by the next look, and usage is shared from then on.
    await store.setKeyLimits(KEY, { turnsPerMinute: 1 });
    time.advance(5_000);
    await limits.sync();
    expect(calls).toEqual(['limits', 'limits', 'sync:0']);
    expect(limits.takeTurn(KEY).allowed).toBe(true);
    expect(limits.takeTurn(KEY).allowed).toBe(false);
    time.advance(1_000);
    await limits.sync();
    expect(calls.slice(3)).toEqual(['sync:1', 'limits']);

    const warnings: string[] = [];
    const logger: Logger = { info: () => {}, warn: (event) => warnings.push(event), error: () => {} };
    store.syncUsage = async () => {
      throw new Error('down');
    };
    const failing = new KeyLimits({ store, logger, turnsPerMinute: 1 });
    await failing.sync();
    await failing.sync();
    expect(warnings).toEqual(['rate.sync_failed']);
    // Still enforced locally.
    expect(failing.takeTurn(KEY).allowed).toBe(true);
    expect(failing.takeTurn(KEY).allowed).toBe(false);
  });

  it('refuses a negative default', () => {
    expect(() => new KeyLimits({ turnsPerMinute: -1 })).toThrow(/turnsPerMinute/);
  });
});
