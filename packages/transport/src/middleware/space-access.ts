import type { Space } from '@stello-ai/runtime';
import type { MiddlewareHandler } from 'hono';
import { TransportError } from '../errors';
import type { AuthEnv, TransportSpaceStore } from '../types';
import { uuidParam } from '../validation';

/** Environment of the routes under `/spaces/:spaceId`: the checked space is on the context. */
export type SpaceEnv = { Variables: AuthEnv['Variables'] & { space: Space } };

/**
 * Loads a space and checks that `userId` owns it; throws `SPACE_NOT_FOUND` (404) or
 * `FORBIDDEN` (403). The space manager serves a warm space from its cache, so this costs no query.
 */
export async function requireOwnedSpace(
  spaces: Pick<TransportSpaceStore, 'getSpace'>,
  spaceId: string,
  userId: string,
): Promise<Space> {
  const space = await spaces.getSpace(spaceId);
  if (!space) throw new TransportError('SPACE_NOT_FOUND', `space "${spaceId}" not found`);
  if (space.userId !== userId) throw new TransportError('FORBIDDEN', 'this space belongs to another user');
  return space;
}

/** Checks `:spaceId` (UUID, exists, owned by the caller) and puts the space on the context. */
export function spaceAccess(spaces: Pick<TransportSpaceStore, 'getSpace'>): MiddlewareHandler<SpaceEnv> {
  return async (c, next) => {
    const spaceId = uuidParam(c, 'spaceId');
    c.set('space', await requireOwnedSpace(spaces, spaceId, c.get('userId')));
    await next();
  };
}
