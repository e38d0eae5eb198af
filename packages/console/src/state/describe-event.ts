import type { SessionTreeNode, SpaceEvent } from '@stello-ai/client';
import { findSession } from '@stello-ai/client';

const WHAT_HAPPENED: Record<SpaceEvent['kind'], string> = {
  'session.created': 'session created',
  'session.forked': 'session forked',
  'session.archived': 'session archived',
  'session.updated': 'session updated',
  'turn.started': 'turn started',
  'turn.completed': 'turn completed',
  'memory.consolidated': 'memory consolidated',
  'space.updated': 'space updated',
  'space.deleted': 'space deleted',
};

/** One line for a space event, naming the session when the tree knows it. */
export function describeEvent(event: SpaceEvent, tree: SessionTreeNode | null): string {
  const what = WHAT_HAPPENED[event.kind] ?? event.kind;
  const session = event.sessionId && tree ? findSession(tree, event.sessionId) : null;
  return session ? `Live: ${what} (${session.label})` : `Live: ${what}`;
}
