import type { Hono } from 'hono';
import { z } from 'zod';
import { admitSessions } from '../admission';
import { TransportError } from '../errors';
import type { SpaceEnv } from '../middleware/space-access';
import type { TransportDeps, TransportSubtreeSource } from '../types';
import { readJsonBody, uuidParam } from '../validation';

// The document's shape, bounds and tree rules are checked by the storage, in one place for the
// REST route and the CLI; here the body only has to be JSON.
const subtreeDocumentBody = z.unknown();

/**
 * Registers the subtree routes on the space-scoped sub-app:
 * - `GET /sessions/:id/export`: the subtree under `:id` as a `stello.subtree` document (200);
 * - `POST /sessions/:id/import`: body = a document; copies it under `:id` with new ids (201,
 *   the new root's info, `sessionId`, `parentId`, `idMap`, `sessions` and `records` counts);
 * - `POST /sessions/:id/archive-subtree`: archives `:id` and its descendants in one statement
 *   (200, the root's info, `sessionId`, `archivedIds`). The seeds' `…/archive` is unchanged.
 * Sessions of another space are 404; the session info is read through the space's agent.
 */
export function registerSubtreeRoutes(
  app: Hono<SpaceEnv>,
  subtrees: TransportSubtreeSource,
  deps: Pick<TransportDeps, 'agentPool' | 'userLimits'>,
): void {
  // The session as `GET /sessions/:id` shows it, read after the change through the space's agent.
  const infoOf = async (spaceId: string, sessionId: string) => {
    const info = await (await deps.agentPool.getAgent(spaceId)).sessions.getInfo(sessionId);
    if (!info) throw new TransportError('SESSION_NOT_FOUND', `session "${sessionId}" not found`);
    return info;
  };

  app.get('/sessions/:id/export', async (c) => {
    const sessionId = uuidParam(c, 'id');
    return c.json(await subtrees.exportSubtree(c.get('space').id, sessionId));
  });

  app.post('/sessions/:id/import', async (c) => {
    const parentId = uuidParam(c, 'id');
    const document = await readJsonBody(c, subtreeDocumentBody);
    const spaceId = c.get('space').id;
    // The sessions quota counts the copy as a whole (a malformed document is refused by storage).
    const count = (document as { sessions?: unknown } | null)?.sessions;
    if (Array.isArray(count)) await admitSessions(deps, c.get('userId'), Math.max(1, count.length));
    const result = await subtrees.importSubtree(spaceId, document, parentId);
    return c.json(
      {
        ...(await infoOf(spaceId, result.rootId)),
        sessionId: result.rootId,
        parentId: result.parentId,
        idMap: result.idMap,
        sessions: result.sessions,
        records: result.records,
      },
      201,
    );
  });

  app.post('/sessions/:id/archive-subtree', async (c) => {
    const sessionId = uuidParam(c, 'id');
    const spaceId = c.get('space').id;
    const result = await subtrees.archiveSubtree(spaceId, sessionId);
    return c.json({ ...(await infoOf(spaceId, sessionId)), sessionId, archivedIds: result.archivedIds });
  });
}
