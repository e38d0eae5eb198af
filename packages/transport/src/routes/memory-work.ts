import type { Logger } from '@stello-ai/runtime';
import type { Hono } from 'hono';
import { admitTurn } from '../admission';
import type { SpaceEnv } from '../middleware/space-access';
import type { TransportDeps } from '../types';
import { uuidParam } from '../validation';

/**
 * Registers memory work on demand on the space-scoped sub-app:
 * - `POST /sessions/:id/consolidate` → `{ sessionId, memory }`: the session's new memory;
 * - `POST /integrate` → `{ synthesis, insights }`: the root's synthesis and the insights it sent.
 *
 * Both join background work already running on the same target (the agent's scheduler coalesces
 * them), refuse an archived session with 409 `SESSION_ARCHIVED` and the root's consolidation with
 * 409 `INVALID_OPERATION`, and count as running turns of the user (they are LLM calls).
 */
export function registerMemoryWorkRoutes(app: Hono<SpaceEnv>, deps: TransportDeps, logger: Logger): void {
  app.post('/sessions/:id/consolidate', async (c) => {
    const sessionId = uuidParam(c, 'id');
    const agent = await deps.agentPool.getAgent(c.get('space').id);
    const release = await admitTurn(deps, c.get('userId'));
    try {
      const memory = await agent.consolidateSession(sessionId);
      logger.info('memory.consolidated_on_demand', { requestId: c.get('requestId'), sessionId });
      return c.json({ sessionId, memory });
    } finally {
      release();
    }
  });

  app.post('/integrate', async (c) => {
    const agent = await deps.agentPool.getAgent(c.get('space').id);
    const release = await admitTurn(deps, c.get('userId'));
    try {
      const result = await agent.integrate();
      logger.info('memory.integrated_on_demand', {
        requestId: c.get('requestId'),
        spaceId: c.get('space').id,
      });
      return c.json({ synthesis: result.synthesis, insights: result.insights });
    } finally {
      release();
    }
  });
}
