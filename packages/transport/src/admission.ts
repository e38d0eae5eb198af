import type { TransportDeps } from './types';

const noop = (): void => {};

/**
 * Admits one turn of `userId` (quota of stored bytes, turns running at once); resolves to the
 * release to call when the turn ends. Without configured limits everything is admitted.
 */
export function admitTurn(deps: Pick<TransportDeps, 'userLimits'>, userId: string): Promise<() => void> {
  return deps.userLimits ? deps.userLimits.admitTurn(userId) : Promise.resolve(noop);
}

/** Admits `count` new sessions of `userId` (forks, imports) against the sessions quota. */
export async function admitSessions(
  deps: Pick<TransportDeps, 'userLimits'>,
  userId: string,
  count = 1,
): Promise<void> {
  await deps.userLimits?.admitSessions(userId, count);
}
