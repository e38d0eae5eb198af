import type { SpaceConfig, SpaceUpdate } from '@stello-ai/runtime';
import type { Hono } from 'hono';
import type { SpaceEnv } from '../middleware/space-access';
import type { AuthEnv, TransportDeps } from '../types';
import { createSpaceBody, listSpacesQuery, readJsonBody, updateSpaceBody, validate } from '../validation';
import { budgetedSpaces, DEFAULT_LIST_BYTES, DEFAULT_LIST_PAGE_SIZE } from './budgeted-pages';

/** Header carrying the cursor of the next page on paged list routes; absent on the last page. */
export const NEXT_CURSOR_HEADER = 'X-Next-Cursor';
/**
 * Header of `GET …/messages?before=` carrying the cursor of the older page (pass it as `before`);
 * absent once nothing older remains.
 */
export const PREV_CURSOR_HEADER = 'X-Prev-Cursor';

/** Registers `POST /spaces` and `GET /spaces` (the caller's spaces, oldest first). */
export function registerSpaceListRoutes(app: Hono<AuthEnv>, deps: TransportDeps): void {
  app.post('/spaces', async (c) => {
    const body = await readJsonBody(c, createSpaceBody);
    const config: SpaceConfig = { label: body.label };
    if (body.systemPrompt != null) config.systemPrompt = body.systemPrompt;
    if (body.consolidatePrompt != null) config.consolidatePrompt = body.consolidatePrompt;
    if (body.integratePrompt != null) config.integratePrompt = body.integratePrompt;
    if (body.config !== undefined) config.config = body.config;
    await deps.userLimits?.admitSpace(c.get('userId'));
    const space = await deps.spaceManager.createSpace(c.get('userId'), config);
    return c.json(space, 201);
  });

  app.get('/spaces', async (c) => {
    const query = validate(listSpacesQuery, c.req.query(), 'query');
    // Without `limit`, a first page of the default size: a user's list is bounded like any other.
    const page = await budgetedSpaces(deps.spaceManager, c.get('userId'), {
      limit: query.limit ?? DEFAULT_LIST_PAGE_SIZE,
      ...(query.after !== undefined && { after: query.after }),
      budgetBytes: deps.limits?.listBytes ?? DEFAULT_LIST_BYTES,
    });
    if (page.nextCursor) c.header(NEXT_CURSOR_HEADER, page.nextCursor);
    return c.json(page.items);
  });
}

/** Registers `GET`, `PATCH` and `DELETE /spaces/:spaceId` on the space-scoped sub-app. */
export function registerSpaceRoutes(app: Hono<SpaceEnv>, deps: TransportDeps): void {
  app.get('/', (c) => c.json(c.get('space')));

  app.patch('/', async (c) => {
    const body = await readJsonBody(c, updateSpaceBody);
    const updates: SpaceUpdate = {};
    if (body.label !== undefined) updates.label = body.label;
    if (body.systemPrompt !== undefined) updates.systemPrompt = body.systemPrompt;
    if (body.consolidatePrompt !== undefined) updates.consolidatePrompt = body.consolidatePrompt;
    if (body.integratePrompt !== undefined) updates.integratePrompt = body.integratePrompt;
    if (body.config !== undefined) updates.config = body.config;
    if (Object.keys(updates).length === 0) return c.json(c.get('space'));
    return c.json(await deps.spaceManager.updateSpace(c.get('space').id, updates));
  });

  app.delete('/', async (c) => {
    // The manager notifies the agent pool, which evicts the space's agent.
    await deps.spaceManager.deleteSpace(c.get('space').id);
    // Its sessions and bytes no longer count against the owner's quotas.
    deps.userLimits?.forget(c.get('userId'));
    return c.body(null, 204);
  });
}
