import type { SlotKey } from '@stello-ai/session';
import type { Hono } from 'hono';
import { TransportError } from '../errors';
import type { SpaceEnv } from '../middleware/space-access';
import type { TransportDeps } from '../types';
import { contentBody, readJsonBody, uuidParam } from '../validation';

/** One session data route: its path segment, the slot it reads and whether `PUT` writes it. */
interface SlotRoute {
  path: string;
  slot: SlotKey;
  writable: boolean;
}

/** The session data routes of the seeds: `{ content: string | null }` each. */
const SLOT_ROUTES: readonly SlotRoute[] = [
  { path: 'system-prompt', slot: 'system_prompt', writable: true },
  { path: 'memory', slot: 'memory', writable: false },
  { path: 'insight', slot: 'insight', writable: false },
  { path: 'consolidate-prompt', slot: 'consolidate_prompt', writable: true },
  { path: 'integrate-prompt', slot: 'integrate_prompt', writable: true },
];

/**
 * Registers `GET` (and `PUT` where writable) `/sessions/:id/<slot>` on the space-scoped sub-app.
 * Every call first checks that the session exists in the path's space (unknown → 404), and a
 * `PUT` on an archived session is `SESSION_ARCHIVED` (409).
 */
export function registerSessionDataRoutes(app: Hono<SpaceEnv>, deps: TransportDeps): void {
  const load = async (spaceId: string, sessionId: string) => {
    const agent = await deps.agentPool.getAgent(spaceId);
    const meta = await agent.sessions.get(sessionId);
    if (!meta) throw new TransportError('SESSION_NOT_FOUND', `session "${sessionId}" not found`);
    const storage = agent.config.storage;
    // The pool's agents always carry their storage; a host config without one cannot serve slots.
    if (!storage) throw new Error('the agent of this space has no storage');
    return { meta, storage };
  };

  for (const route of SLOT_ROUTES) {
    app.get(`/sessions/:id/${route.path}`, async (c) => {
      const sessionId = uuidParam(c, 'id');
      const { storage } = await load(c.get('space').id, sessionId);
      return c.json({ content: await storage.getSlot(sessionId, route.slot) });
    });

    if (!route.writable) continue;
    app.put(`/sessions/:id/${route.path}`, async (c) => {
      const sessionId = uuidParam(c, 'id');
      const { content } = await readJsonBody(c, contentBody);
      const { meta, storage } = await load(c.get('space').id, sessionId);
      if (meta.status === 'archived') {
        throw new TransportError('SESSION_ARCHIVED', `session "${sessionId}" is archived`);
      }
      await storage.putSlot(sessionId, route.slot, content);
      deps.publishEvent?.({
        kind: 'session.updated',
        spaceId: c.get('space').id,
        sessionId,
        data: { changed: route.path },
      });
      return c.json({ content });
    });
  }
}
