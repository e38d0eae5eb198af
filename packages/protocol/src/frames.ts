import { z } from 'zod';
import { wsErrorCode } from './errors';
import { sessionInfoSchema, turnResultSchema } from './responses';

// The frames the server pushes: the frames of a streamed turn (the same JSON on the WebSocket and
// in the `data:` of the SSE routes, where the SSE `event:` is the frame's `type` and `id:` its
// `seq`), and the space events.

const turnId = z.string().meta({ format: 'uuid' });
const seq = z
  .number()
  .int()
  .min(1)
  .meta({ description: "The frame's number in its turn (1, 2, …); SSE `id:`." });

/** A piece of the model's text. */
export const streamDeltaFrame = z
  .strictObject({ type: z.literal('stream.delta'), turnId, seq, chunk: z.string() })
  .meta({ id: 'StreamDeltaFrame' });

/** The model asked for a tool call. */
export const toolCallFrame = z
  .strictObject({
    type: z.literal('tool.call'),
    turnId,
    seq,
    callId: z.string(),
    name: z.string(),
    input: z.unknown(),
  })
  .meta({ id: 'ToolCallFrame' });

/** A tool call finished (`ok: false` with `error` when the tool threw). */
export const toolResultFrame = z
  .strictObject({
    type: z.literal('tool.result'),
    turnId,
    seq,
    callId: z.string(),
    ok: z.boolean(),
    output: z.unknown().optional(),
    error: z.string().optional(),
  })
  .meta({ id: 'ToolResultFrame' });

/** The turn completed and is stored: its result. Ends the stream. */
export const streamEndFrame = z
  .strictObject({ type: z.literal('stream.end'), turnId, seq, result: turnResultSchema })
  .meta({ id: 'StreamEndFrame' });

/** The turn was cancelled; nothing of it was stored. Ends the stream. */
export const turnCancelledFrame = z
  .strictObject({ type: z.literal('turn.cancelled'), turnId, seq: seq.optional() })
  .meta({ id: 'TurnCancelledFrame' });

/**
 * An error: a failed turn (with `turnId` and `seq`; ends its stream), or on the WebSocket a
 * refused message (without them).
 */
export const errorFrame = z
  .strictObject({
    type: z.literal('error'),
    turnId: turnId.optional(),
    seq: seq.optional(),
    code: wsErrorCode,
    message: z.string(),
    details: z.unknown().optional(),
  })
  .meta({ id: 'ErrorFrame' });

/** The first SSE event of `POST …/stream` (no `seq`): the turn's id, also in `X-Turn-Id`. */
export const turnStartedFrame = z
  .strictObject({ type: z.literal('turn.started'), turnId })
  .meta({ id: 'TurnStartedFrame' });

/** A frame of a streamed turn, in `seq` order; `stream.end`, `turn.cancelled` or `error` ends it. */
export const turnStreamFrame = z
  .discriminatedUnion('type', [
    streamDeltaFrame,
    toolCallFrame,
    toolResultFrame,
    streamEndFrame,
    turnCancelledFrame,
    errorFrame,
  ])
  .meta({ id: 'TurnStreamFrame' });

/** The kinds of space events. */
export const SPACE_EVENT_KINDS = [
  'session.created',
  'session.forked',
  'session.archived',
  'session.updated',
  'turn.started',
  'turn.completed',
  'memory.consolidated',
  'space.updated',
  'space.deleted',
] as const;

/** A change in a space, live (no replay): the SSE `data:` of `GET /spaces/:spaceId/events` and WS `space.event`. */
export const spaceEventSchema = z
  .strictObject({
    id: z.number().int().meta({ description: 'Counts up per subscription (SSE `id:`).' }),
    kind: z.enum(SPACE_EVENT_KINDS),
    spaceId: turnId,
    sessionId: turnId.optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'SpaceEvent' });

/** The SSE `error` event of the space events stream: the subscriber fell too far behind; the stream ends. */
export const spaceEventsOverflowFrame = z
  .strictObject({ code: z.literal('SLOW_SUBSCRIBER'), error: z.string() })
  .meta({ id: 'SpaceEventsOverflow' });

// The WebSocket's own frames.

/** Answer of `session.enter`: the session and its assembled context. */
export const sessionEnteredFrame = z
  .strictObject({
    type: z.literal('session.entered'),
    sessionId: turnId,
    bootstrap: z.strictObject({
      context: z.strictObject({
        core: z.record(z.string(), z.unknown()),
        memories: z.array(z.string()),
        currentMemory: z.string().nullable(),
        scope: z.string().nullable(),
      }),
      session: sessionInfoSchema.pick({
        id: true,
        label: true,
        scope: true,
        status: true,
        turnCount: true,
        metadata: true,
        tags: true,
        createdAt: true,
        updatedAt: true,
        lastActiveAt: true,
      }),
    }),
  })
  .meta({ id: 'SessionEnteredFrame' });

/** Answer of `session.leave`. */
export const sessionLeftFrame = z
  .strictObject({ type: z.literal('session.left'), sessionId: turnId })
  .meta({ id: 'SessionLeftFrame' });

/** Answer of `session.message`: the turn's result. */
export const turnCompleteFrame = z
  .strictObject({ type: z.literal('turn.complete'), turnId, result: turnResultSchema })
  .meta({ id: 'TurnCompleteFrame' });

/** Answer of `session.fork`: the new child session. */
export const sessionForkedFrame = z
  .strictObject({ type: z.literal('session.forked'), child: sessionInfoSchema })
  .meta({ id: 'SessionForkedFrame' });

/** Answer of `session.consolidate`: the session's new memory. */
export const sessionConsolidatedFrame = z
  .strictObject({
    type: z.literal('session.consolidated'),
    sessionId: z.string(),
    memory: z.string().nullable(),
  })
  .meta({ id: 'SessionConsolidatedFrame' });

/** Answer of `space.integrate`: the root's synthesis and the insights it sent. */
export const spaceIntegratedFrame = z
  .strictObject({
    type: z.literal('space.integrated'),
    synthesis: z.string(),
    insights: z.array(z.strictObject({ sessionId: z.string(), content: z.string() })),
  })
  .meta({ id: 'SpaceIntegratedFrame' });

/** Answer of `space.subscribe`. */
export const spaceSubscribedFrame = z
  .strictObject({ type: z.literal('space.subscribed'), spaceId: turnId })
  .meta({ id: 'SpaceSubscribedFrame' });

/** Answer of `space.unsubscribe`. */
export const spaceUnsubscribedFrame = z
  .strictObject({ type: z.literal('space.unsubscribed'), spaceId: turnId })
  .meta({ id: 'SpaceUnsubscribedFrame' });

/** A space event on a subscribed WebSocket. */
export const spaceEventFrame = z
  .strictObject({ type: z.literal('space.event'), event: spaceEventSchema })
  .meta({ id: 'SpaceEventFrame' });

/** Any frame the server sends on the WebSocket. */
export const serverFrameSchema = z
  .discriminatedUnion('type', [
    sessionEnteredFrame,
    sessionLeftFrame,
    turnCompleteFrame,
    streamDeltaFrame,
    streamEndFrame,
    toolCallFrame,
    toolResultFrame,
    turnCancelledFrame,
    sessionForkedFrame,
    sessionConsolidatedFrame,
    spaceIntegratedFrame,
    errorFrame,
    spaceSubscribedFrame,
    spaceUnsubscribedFrame,
    spaceEventFrame,
  ])
  .meta({ id: 'ServerFrame' });

/** A frame of a streamed turn. */
export type TurnStreamFrame = z.infer<typeof turnStreamFrame>;
/** A space event. */
export type SpaceEvent = z.infer<typeof spaceEventSchema>;
/** The kind of a space event. */
export type SpaceEventKind = (typeof SPACE_EVENT_KINDS)[number];
/** A frame the server sends on the WebSocket. */
export type ServerFrame = z.infer<typeof serverFrameSchema>;
/** The frames of a space subscription. */
export type SpaceSubscriptionFrame = z.infer<
  typeof spaceSubscribedFrame | typeof spaceUnsubscribedFrame | typeof spaceEventFrame
>;
