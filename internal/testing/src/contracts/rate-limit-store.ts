import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContractUserKeyStore } from './account-types';
import { randomStoredKey } from './random-stored-key';

const GHOST_ID = '00000000-0000-4000-8000-000000000000';

interface ContractKeyLimits {
  keyId: string;
  turnsPerMinute: number | null;
  concurrentStreams: number | null;
}

interface ContractKeyUsage {
  keyId: string;
  turns: number;
  streams: number;
}

/** The `RateLimitStore` of `@stello-ai/storage`, restated structurally (see `account-types.ts`). */
export interface ContractRateLimitStore {
  getKeyLimits(keyId: string): Promise<ContractKeyLimits | null>;
  setKeyLimits(
    keyId: string,
    update: { turnsPerMinute?: number | null; concurrentStreams?: number | null },
  ): Promise<ContractKeyLimits | null>;
  listKeyLimits(): Promise<ContractKeyLimits[]>;
  syncUsage(sync: {
    processId: string;
    windowStartMs: number;
    usage: readonly ContractKeyUsage[];
    streamsFreshMs: number;
  }): Promise<ContractKeyUsage[]>;
  deleteUsageBefore(windowStartMs: number): Promise<number>;
}

/** The users and the rate limit store of one backend (over one database or one memory). */
export interface RateLimitStoresFixture {
  users: ContractUserKeyStore;
  rateLimits: ContractRateLimitStore;
  cleanup?: () => Promise<void>;
}

async function newKey(users: ContractUserKeyStore): Promise<string> {
  return (await users.createUser('limited', randomStoredKey())).id;
}

const sortByKey = (rows: ContractKeyUsage[]) => [...rows].sort((a, b) => a.keyId.localeCompare(b.keyId));

/**
 * The `RateLimitStore` contract: per-key limits (default `null`, changed field by field) and the
 * usage sync (each process's rows replaced, the others' summed per key and window). Run it
 * against every backend.
 */
export function describeRateLimitStoreContract(
  name: string,
  factory: () => Promise<RateLimitStoresFixture>,
): void {
  describe(`RateLimitStore contract: ${name}`, () => {
    const fx: { current: RateLimitStoresFixture } = { current: undefined as never };
    beforeEach(async () => {
      fx.current = await factory();
    });
    afterEach(async () => {
      await fx.current.cleanup?.();
    });

    it('keeps a key on the server defaults until a limit is set, field by field', async () => {
      const keyId = await newKey(fx.current.users);
      expect(await fx.current.rateLimits.getKeyLimits(keyId)).toEqual({
        keyId,
        turnsPerMinute: null,
        concurrentStreams: null,
      });
      expect(await fx.current.rateLimits.setKeyLimits(keyId, { turnsPerMinute: 5 })).toEqual({
        keyId,
        turnsPerMinute: 5,
        concurrentStreams: null,
      });
      expect(await fx.current.rateLimits.setKeyLimits(keyId, { concurrentStreams: 0 })).toEqual({
        keyId,
        turnsPerMinute: 5,
        concurrentStreams: 0,
      });
      expect(await fx.current.rateLimits.listKeyLimits()).toContainEqual({
        keyId,
        turnsPerMinute: 5,
        concurrentStreams: 0,
      });
      await fx.current.rateLimits.setKeyLimits(keyId, { turnsPerMinute: null, concurrentStreams: null });
      expect((await fx.current.rateLimits.listKeyLimits()).map((limits) => limits.keyId)).not.toContain(
        keyId,
      );
    });

    it('answers null for a key that does not exist', async () => {
      expect(await fx.current.rateLimits.getKeyLimits(GHOST_ID)).toBeNull();
      expect(await fx.current.rateLimits.setKeyLimits(GHOST_ID, { turnsPerMinute: 1 })).toBeNull();
    });

    it("sums the other processes' use of the window, replacing each process's last sync", async () => {
      const [a, b] = [await newKey(fx.current.users), await newKey(fx.current.users)];
      const windowStartMs = Math.floor(Date.now() / 60_000) * 60_000;
      const sync = (processId: string, usage: ContractKeyUsage[], at = windowStartMs) =>
        fx.current.rateLimits.syncUsage({ processId, windowStartMs: at, usage, streamsFreshMs: 60_000 });
      expect(await sync('p1', [{ keyId: a, turns: 2, streams: 1 }])).toEqual([]);
      await sync('p2', [
        { keyId: a, turns: 3, streams: 0 },
        { keyId: b, turns: 1, streams: 2 },
      ]);
      // p2 syncs again: its rows are replaced, not added to.
      await sync('p2', [
        { keyId: a, turns: 4, streams: 0 },
        { keyId: b, turns: 1, streams: 2 },
      ]);
      // Another window does not count.
      await sync('p3', [{ keyId: a, turns: 50, streams: 5 }], windowStartMs - 60_000);
      const mine = (rows: ContractKeyUsage[]) =>
        sortByKey(rows.filter((row) => row.keyId === a || row.keyId === b));
      expect(mine(await sync('p1', [{ keyId: a, turns: 2, streams: 1 }]))).toEqual(
        sortByKey([
          { keyId: a, turns: 4, streams: 0 },
          { keyId: b, turns: 1, streams: 2 },
        ]),
      );
      expect(mine(await sync('p2', []))).toEqual([{ keyId: a, turns: 2, streams: 1 }]);
      expect(await fx.current.rateLimits.deleteUsageBefore(windowStartMs)).toBeGreaterThanOrEqual(1);
      expect(mine(await sync('p9', [], windowStartMs - 60_000))).toEqual([]);
    });

    it('stops counting the open streams of a process that has not synced lately', async () => {
      const keyId = await newKey(fx.current.users);
      const windowStartMs = Math.floor(Date.now() / 60_000) * 60_000;
      await fx.current.rateLimits.syncUsage({
        processId: 'gone',
        windowStartMs,
        usage: [{ keyId, turns: 1, streams: 3 }],
        streamsFreshMs: 1_000,
      });
      await new Promise((resolve) => setTimeout(resolve, 30));
      const seen = await fx.current.rateLimits.syncUsage({
        processId: 'alive',
        windowStartMs,
        usage: [],
        streamsFreshMs: 10,
      });
      expect(seen.filter((usage) => usage.keyId === keyId)).toEqual([{ keyId, turns: 1, streams: 0 }]);
    });
  });
}
