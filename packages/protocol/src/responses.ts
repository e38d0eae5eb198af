import { z } from 'zod';

// What the REST routes answer. Objects are strict: they list every field the server sends, so a
// renamed or leaked field fails the conformance test. Timestamps are ISO-8601 strings.

const id = z.string().meta({ format: 'uuid' });
const timestamp = z.string().meta({ format: 'date-time' });
const jsonObject = z.record(z.string(), z.unknown());

/** A space, as `POST /spaces`, `GET /spaces`, `GET|PATCH /spaces/:spaceId` answer it. */
export const spaceSchema = z
  .strictObject({
    id,
    userId: id,
    label: z.string(),
    systemPrompt: z.string().nullable(),
    consolidatePrompt: z.string().nullable(),
    integratePrompt: z.string().nullable(),
    config: jsonObject,
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Space' });

/** One page of `GET /spaces` (oldest first; the next page's cursor is in `X-Next-Cursor`). */
export const spacePageSchema = z.array(spaceSchema).meta({ id: 'SpacePage' });

const sessionStatus = z.enum(['active', 'archived']);

/** A session with its place in the tree: `GET …/sessions`, `GET …/sessions/:id`, fork. */
export const sessionInfoSchema = z
  .strictObject({
    id,
    label: z.string(),
    scope: z.string().nullable(),
    status: sessionStatus,
    turnCount: z.number().int().meta({ description: 'Completed user turns.' }),
    metadata: jsonObject,
    tags: z.array(z.string()),
    createdAt: timestamp,
    updatedAt: timestamp,
    lastActiveAt: timestamp,
    parentId: id.nullable(),
    children: z.array(id),
    refs: z.array(id),
    depth: z.number().int().meta({ description: '0 for the root session.' }),
    index: z.number().int().meta({ description: 'Position among its siblings.' }),
    sourceSessionId: id.nullable(),
  })
  .meta({ id: 'SessionInfo' });

/** The flat list of `GET …/sessions`. */
export const sessionListSchema = z.array(sessionInfoSchema).meta({ id: 'SessionList' });

/** `POST …/sessions/:id/archive`: the archived session, with its id again as `sessionId`. */
export const archivedSessionSchema = sessionInfoSchema
  .extend({ sessionId: id })
  .meta({ id: 'ArchivedSession' });

/** The nested tree of `GET …/sessions?view=tree`. */
export const sessionTreeNodeSchema = z
  .strictObject({
    id,
    label: z.string(),
    sourceSessionId: id
      .nullable()
      .optional()
      .meta({ description: 'Absent when the session is no fork of another.' }),
    status: sessionStatus,
    turnCount: z.number().int(),
    depth: z.number().int(),
    index: z.number().int(),
    scope: z.string().nullable(),
    get children(): z.ZodArray<typeof sessionTreeNodeSchema> {
      return z.array(sessionTreeNodeSchema);
    },
  })
  .meta({ id: 'SessionTreeNode' });

/** A tool call an assistant record asked for. */
export const toolCallSchema = z
  .strictObject({ id: z.string(), name: z.string(), input: jsonObject })
  .meta({ id: 'ToolCall' });

/** A stored record, as `GET …/messages` lists them (oldest first); optional fields are absent when unset. */
export const recordSchema = z
  .strictObject({
    id: z.string().meta({
      description: 'Stable record id (a decimal string): a paging cursor, and `fromRecordId` of a fork.',
    }),
    role: z.enum(['system', 'user', 'assistant', 'tool']),
    content: z.string(),
    timestamp,
    metadata: jsonObject.optional(),
    toolCalls: z.array(toolCallSchema).optional(),
    toolCallId: z.string().optional(),
  })
  .meta({ id: 'Record' });

/** One page of `GET …/messages` (the next page's cursor is in `X-Next-Cursor`). */
export const recordPageSchema = z.array(recordSchema).meta({ id: 'RecordPage' });

/** The result of a turn: REST `turn`, WS `turn.complete` and `stream.end`. */
export const turnResultSchema = z
  .strictObject({
    turnId: id,
    turn: z.strictObject({
      finalContent: z.string().nullable(),
      toolRoundCount: z.number().int(),
      toolCallsExecuted: z.number().int(),
      rawResponse: z.string().meta({ description: 'The final LLM answer as JSON text.' }),
    }),
  })
  .meta({ id: 'TurnResult' });

/** Where a turn is. */
export const turnStatusSchema = z
  .enum(['queued', 'running', 'completed', 'cancelled', 'failed'])
  .meta({ id: 'TurnStatus' });

/** `GET …/sessions/:id/turns/:turnId`: a turn's status, with its result once completed. */
export const turnInfoSchema = z
  .strictObject({
    turnId: id,
    sessionId: id,
    status: turnStatusSchema,
    result: turnResultSchema.optional(),
    error: z
      .strictObject({ code: z.string(), message: z.string() })
      .optional()
      .meta({ description: 'Why a failed or cancelled turn ended.' }),
    lastSeq: z.number().int().optional().meta({ description: 'The last stream frame number, if streamed.' }),
  })
  .meta({ id: 'TurnInfo' });

/** `POST …/turns/:turnId/cancel` (202). */
export const cancelTurnResultSchema = z
  .strictObject({ turnId: id, status: turnStatusSchema })
  .meta({ id: 'CancelTurnResult' });

/** A session data slot: `GET`/`PUT …/sessions/:id/{system-prompt,memory,insight,…}`. */
export const slotContentSchema = z
  .strictObject({ content: z.string().nullable() })
  .meta({ id: 'SlotContent' });

/** `GET /healthz`. */
export const healthSchema = z.strictObject({ status: z.literal('ok') }).meta({ id: 'Health' });

/** `GET /readyz` (200 `ready`, 503 `not_ready` with the error fields). */
export const readinessSchema = z
  .union([
    z.strictObject({ status: z.literal('ready') }),
    z.strictObject({ status: z.literal('not_ready'), error: z.string(), code: z.literal('NOT_READY') }),
  ])
  .meta({ id: 'Readiness' });

/** A space. */
export type Space = z.infer<typeof spaceSchema>;
/** A session with its topology. */
export type SessionInfo = z.infer<typeof sessionInfoSchema>;
/** The archived session of `POST …/archive`. */
export type ArchivedSession = z.infer<typeof archivedSessionSchema>;
/** A node of the nested session tree. */
export type SessionTreeNode = z.infer<typeof sessionTreeNodeSchema>;
/** A tool call of an assistant record. */
export type ToolCall = z.infer<typeof toolCallSchema>;
/** A stored record of `GET …/messages`. */
export type RecordView = z.infer<typeof recordSchema>;
/** The result of a turn. */
export type TurnResult = z.infer<typeof turnResultSchema>;
/** Where a turn is. */
export type TurnStatus = z.infer<typeof turnStatusSchema>;
/** A turn's status report. */
export type TurnInfo = z.infer<typeof turnInfoSchema>;
/** The answer of a cancel. */
export type CancelTurnResult = z.infer<typeof cancelTurnResultSchema>;
/** A session data slot's content. */
export type SlotContent = z.infer<typeof slotContentSchema>;

/** `POST …/sessions/:id/consolidate`: the session's new memory (`null` when it has no records yet). */
export const consolidateResponseSchema = z
  .strictObject({ sessionId: z.string(), memory: z.string().nullable() })
  .meta({ id: 'ConsolidateResponse' });

/** `POST /spaces/:spaceId/integrate`: the root's synthesis and the insights it sent its children. */
export const integrateResponseSchema = z
  .strictObject({
    synthesis: z.string(),
    insights: z.array(z.strictObject({ sessionId: z.string(), content: z.string() })),
  })
  .meta({ id: 'IntegrateResponse' });

/** A consolidation's answer. */
export type ConsolidateResponse = z.infer<typeof consolidateResponseSchema>;
/** An integration's answer. */
export type IntegrateResponse = z.infer<typeof integrateResponseSchema>;

/** A `stello.subtree` document (`GET …/export`, the body of `POST …/import`); storage validates it whole. */
export const subtreeDocumentSchema = z
  .looseObject({
    format: z.literal('stello.subtree'),
    version: z.literal(1),
    sessions: z.array(z.looseObject({})),
  })
  .meta({ id: 'SubtreeDocument' });

/** `POST …/sessions/:id/import`: the copy's root session, where it hangs and the id of every copy. */
export const subtreeImportResultSchema = z
  .looseObject({
    sessionId: z.string(),
    parentId: z.string(),
    idMap: z.record(z.string(), z.string()),
    sessions: z.number().int(),
    records: z.number().int(),
  })
  .meta({ id: 'SubtreeImportResult' });

/** `POST …/sessions/:id/archive-subtree`: the session and the ids archived with it. */
export const subtreeArchiveResultSchema = z
  .looseObject({ sessionId: z.string(), archivedIds: z.array(z.string()) })
  .meta({ id: 'SubtreeArchiveResult' });
