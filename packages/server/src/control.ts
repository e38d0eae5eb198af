import type { Logger, SpaceEventPublisher, SpaceManager, UserStore } from '@stello-ai/runtime';
import {
  type ControlChannel,
  type ControlEvent,
  KEY_REVOKED_EVENT,
  PgControlChannel,
} from '@stello-ai/storage';
import type pg from 'pg';

// The wiring between this server process and the others on the same database: one control
// channel (LISTEN/NOTIFY on a direct connection) keeps the space cache, the agents and the key
// cache coherent, and closes a revoked key's sockets everywhere.

/** Environment variable of the direct (non-pooled) database URL the control channel listens on. */
export const DIRECT_DATABASE_URL_ENV = 'STELLO_DIRECT_DATABASE_URL';
/** Event a process publishes after a space write committed (`spaceId`). */
export const SPACE_UPDATED_EVENT = 'space.updated';
/** Event a process publishes after a space delete committed (`spaceId`). */
export const SPACE_DELETED_EVENT = 'space.deleted';

/**
 * The URL the control channel connects to: `controlDatabaseUrl`, else `STELLO_DIRECT_DATABASE_URL`,
 * else the pool's own connection string. Behind a transaction pooler (PgBouncer) LISTEN needs a
 * direct connection, so set one of the first two there. `null` when none is known.
 */
export function resolveControlDatabaseUrl(
  pool: pg.Pool,
  controlDatabaseUrl: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  if (controlDatabaseUrl !== undefined && controlDatabaseUrl.trim() !== '') return controlDatabaseUrl;
  const direct = env[DIRECT_DATABASE_URL_ENV];
  if (direct !== undefined && direct.trim() !== '') return direct;
  const fromPool = (pool as pg.Pool & { options?: { connectionString?: string } }).options?.connectionString;
  return typeof fromPool === 'string' && fromPool !== '' ? fromPool : null;
}

/** Creates this process's control channel on `url` (queries for publishing go through `pool`). */
export function createControlChannel(url: string, pool: pg.Pool, logger: Logger): PgControlChannel {
  return new PgControlChannel({
    connectionString: url,
    pool,
    onError: (error) => logger.warn('control.error', { error: (error as Error).message }),
  });
}

/**
 * Publishes an agent's committed changes (turns, forks, archives, consolidations) on the channel;
 * a failed publish is logged, never thrown into the turn.
 */
export function spaceEventPublisher(channel: ControlChannel, logger: Logger): SpaceEventPublisher {
  return (event) => {
    // Before listen() the channel has no identity yet: nothing is subscribed anywhere to miss it.
    if (channel.instanceId === 0) return;
    channel.publish(event).catch((error: unknown) => {
      logger.warn('control.publish_failed', { kind: event.kind, error: (error as Error).message });
    });
  };
}

/** What {@link syncThroughControlChannel} keeps coherent. */
export interface ControlSyncTargets {
  spaceManager: SpaceManager;
  /** Its `forgetUser` also closes the user's sockets (the gateway watches `onKeysChanged`). */
  userStore: UserStore;
  logger: Logger;
}

/**
 * Publishes this process's space changes and applies the other processes' ones: a changed or
 * deleted space is re-read (its agent rebuilt or evicted), a revoked key leaves the key cache and
 * its sockets are closed, and after a reconnect every cache is re-checked. Returns the unsubscribe.
 */
export function syncThroughControlChannel(channel: ControlChannel, targets: ControlSyncTargets): () => void {
  const { spaceManager, userStore, logger } = targets;
  const stopPublishing = spaceManager.onChange((spaceId, space, origin) => {
    if (origin !== 'local') return;
    // The write has committed: the manager tells its listeners only after the store returned.
    const kind = space === null ? SPACE_DELETED_EVENT : SPACE_UPDATED_EVENT;
    channel.publish({ kind, spaceId }).catch((error: unknown) => {
      logger.warn('control.publish_failed', { kind, spaceId, error: (error as Error).message });
    });
  });
  const onEvent = (event: ControlEvent): void => {
    if (event.kind === KEY_REVOKED_EVENT) {
      const userId = event.data?.userId;
      if (typeof userId !== 'string') return;
      userStore.forgetUser(userId);
      return;
    }
    if (event.kind !== SPACE_UPDATED_EVENT && event.kind !== SPACE_DELETED_EVENT) return;
    if (event.instanceId === channel.instanceId || typeof event.spaceId !== 'string') return;
    spaceManager.reload(event.spaceId).catch((error: unknown) => {
      // The space could not be re-read: forget it so the next request reads it again.
      spaceManager.forget(event.spaceId as string);
      logger.warn('control.reload_failed', { spaceId: event.spaceId, error: (error as Error).message });
    });
  };
  const stopListening = channel.subscribe(onEvent);
  const stopResync = channel.onResync(() => {
    userStore.forgetAll();
    spaceManager.reloadAll().catch((error: unknown) => {
      logger.warn('control.resync_failed', { error: (error as Error).message });
    });
  });
  return () => {
    stopPublishing();
    stopListening();
    stopResync();
  };
}
