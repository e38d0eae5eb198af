import type { Hono } from 'hono';
import { TransportError } from '../errors';
import type { SpaceEnv } from '../middleware/space-access';
import type { TransportDeps } from '../types';
import { uuidParam } from '../validation';

/**
 * Registers the routes of one turn: `GET …/sessions/:id/turns/:turnId` (its status, and its result
 * once completed) and `POST …/sessions/:id/turns/:turnId/cancel` (202; aborts it wherever it runs,
 * or cancels it before it starts).
 */
export function registerTurnRoutes(app: Hono<SpaceEnv>, deps: TransportDeps): void {
  app.get('/sessions/:id/turns/:turnId', async (c) => {
    const sessionId = uuidParam(c, 'id');
    const turnId = uuidParam(c, 'turnId');
    const agent = await deps.agentPool.getAgent(c.get('space').id);
    const turn = await agent.getTurn(sessionId, turnId);
    if (!turn)
      throw new TransportError('TURN_NOT_FOUND', `turn "${turnId}" not found in session "${sessionId}"`);
    return c.json(turn);
  });

  app.post('/sessions/:id/turns/:turnId/cancel', async (c) => {
    const sessionId = uuidParam(c, 'id');
    const turnId = uuidParam(c, 'turnId');
    const agent = await deps.agentPool.getAgent(c.get('space').id);
    if (!(await agent.sessions.get(sessionId))) {
      throw new TransportError('SESSION_NOT_FOUND', `session "${sessionId}" not found`);
    }
    return c.json(await agent.cancelTurn(sessionId, turnId), 202);
  });
}
