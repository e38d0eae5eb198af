import type { EngineHooks } from '@stello-ai/core';
import { SPACE_EVENT_KINDS, type SpaceEventKind } from '@stello-ai/protocol';

// Space events: small notices (ids and what changed) of every change in a space, carried between
// processes by the control channel and delivered to the space's subscribers (WS, SSE).

// The kinds are the wire's (one list, in @stello-ai/protocol).
export { SPACE_EVENT_KINDS, type SpaceEventKind };

/** One change in a space, as published. */
export interface SpaceEventInput {
  kind: SpaceEventKind;
  spaceId: string;
  sessionId?: string;
  /** Anything else small (e.g. `parentId` of a fork). */
  data?: Record<string, unknown>;
}

/** Publishes a space event after its change committed; never throws into the caller. */
export type SpaceEventPublisher = (event: SpaceEventInput) => void;

const KINDS = new Set<string>(SPACE_EVENT_KINDS);

/** True when `kind` is a space event a subscriber receives. */
export function isSpaceEventKind(kind: string): kind is SpaceEventKind {
  return KINDS.has(kind);
}

type Hook<K extends keyof EngineHooks> = EngineHooks[K] | undefined;

/**
 * The agent's hooks plus the publishing of its committed changes (each hook fires after its write
 * is stored): turns started and completed, forks, archives and consolidations. The given hooks
 * still run first.
 */
export function withSpaceEventHooks(
  hooks: Partial<EngineHooks> | undefined,
  spaceId: string,
  publish: SpaceEventPublisher,
): Partial<EngineHooks> {
  const chain = <K extends keyof EngineHooks>(
    name: K,
    toEvent: (event: Parameters<EngineHooks[K]>[0]) => SpaceEventInput,
  ): EngineHooks[K] => {
    const own = hooks?.[name] as Hook<K>;
    return ((event: Parameters<EngineHooks[K]>[0]) => {
      publish(toEvent(event));
      // biome-ignore lint/suspicious/noExplicitAny: one generic call of the caller's own hook
      return (own as any)?.(event);
    }) as EngineHooks[K];
  };
  return {
    ...hooks,
    onMessageReceived: chain('onMessageReceived', (e) => ({
      kind: 'turn.started',
      spaceId,
      sessionId: e.sessionId,
    })),
    onRoundEnd: chain('onRoundEnd', (e) => ({ kind: 'turn.completed', spaceId, sessionId: e.sessionId })),
    onSessionFork: chain('onSessionFork', (e) => ({
      kind: 'session.forked',
      spaceId,
      sessionId: e.child.id,
      data: { parentId: e.parentId },
    })),
    onSessionArchive: chain('onSessionArchive', (e) => ({
      kind: 'session.archived',
      spaceId,
      sessionId: e.sessionId,
    })),
    onConsolidated: chain('onConsolidated', (e) => ({
      kind: 'memory.consolidated',
      spaceId,
      sessionId: e.sessionId,
    })),
  };
}
