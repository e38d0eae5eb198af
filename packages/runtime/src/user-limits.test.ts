import { expectCode } from '@internal/testing';
import { describe, expect, it } from 'vitest';
import { UserLimits, type UserUsageFigures } from './user-limits';

function counter(initial: UserUsageFigures) {
  const state = { usage: { ...initial }, reads: 0 };
  const readUsage = async (): Promise<UserUsageFigures> => {
    state.reads += 1;
    return { ...state.usage };
  };
  return { state, readUsage };
}

describe('UserLimits', () => {
  it('refuses a space past the quota, counting admitted ones at once', async () => {
    const { readUsage } = counter({ spaces: 1, sessions: 1, storedBytes: 0 });
    const limits = new UserLimits({ readUsage, spacesPerUser: 3 });
    await limits.admitSpace('u');
    await limits.admitSpace('u');
    const error = await limits.admitSpace('u').catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      details: { quota: 'spacesPerUser', limit: 3, used: 3 },
    });
  });

  it('refuses sessions past the quota, a batch as a whole', async () => {
    const { readUsage } = counter({ spaces: 1, sessions: 8, storedBytes: 0 });
    const limits = new UserLimits({ readUsage, sessionsPerUser: 10 });
    await expectCode(limits.admitSessions('u', 3), 'QUOTA_EXCEEDED');
    await limits.admitSessions('u', 2);
    await expectCode(limits.admitSessions('u'), 'QUOTA_EXCEEDED');
  });

  it('refuses turns once the stored bytes reach the quota', async () => {
    const { state, readUsage } = counter({ spaces: 1, sessions: 1, storedBytes: 99 });
    let now = 0;
    const limits = new UserLimits({ readUsage, storedBytesPerUser: 100, usageTtlMs: 1_000, now: () => now });
    (await limits.admitTurn('u'))();
    state.usage.storedBytes = 100;
    // Still fresh: the cached figure admits; stale: served once while it is re-read.
    (await limits.admitTurn('u'))();
    now = 1_000;
    (await limits.admitTurn('u'))();
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    await expectCode(limits.admitTurn('u'), 'QUOTA_EXCEEDED');
    expect(state.reads).toBe(2);
  });

  it('caps the turns a user runs at once, and frees a slot when one ends', async () => {
    const limits = new UserLimits({ runningTurnsPerUser: 2 });
    const first = await limits.admitTurn('u');
    await limits.admitTurn('u');
    const error = await limits.admitTurn('u').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'TOO_MANY_TURNS', details: { limit: 2, retryAfterMs: 1_000 } });
    // Another user is not affected.
    (await limits.admitTurn('v'))();
    first();
    first();
    expect(limits.runningTurns('u')).toBe(1);
    await limits.admitTurn('u');
  });

  it('checks no quota without a usage reader, and refuses bad limits', async () => {
    const limits = new UserLimits({ spacesPerUser: 1 });
    await limits.admitSpace('u');
    await limits.admitSpace('u');
    expect(() => new UserLimits({ sessionsPerUser: 0 })).toThrow(/sessionsPerUser/);
    expect(() => new UserLimits({ storedBytesPerUser: 1.5 })).toThrow(/storedBytesPerUser/);
    expect(new UserLimits({ spacesPerUser: Number.POSITIVE_INFINITY }).limits.spacesPerUser).toBe(
      Number.POSITIVE_INFINITY,
    );
  });
});
