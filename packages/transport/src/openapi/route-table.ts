// One file over the size rule on purpose: a table, one entry per route, read top to bottom.
import {
  archivedSessionSchema,
  cancelTurnResultSchema,
  consolidateResponseSchema,
  contentBody,
  createSpaceBody,
  type ErrorCode,
  forkOptions,
  healthSchema,
  integrateResponseSchema,
  listSessionsQuery,
  listSpacesQuery,
  messagesQuery,
  readinessSchema,
  recordPageSchema,
  sessionInfoSchema,
  sessionListSchema,
  sessionTreeNodeSchema,
  slotContentSchema,
  spacePageSchema,
  spaceSchema,
  subtreeArchiveResultSchema,
  subtreeDocumentSchema,
  subtreeImportResultSchema,
  turnBody,
  turnInfoSchema,
  turnResultSchema,
  updateSpaceBody,
} from '@stello-ai/protocol';
import { z } from 'zod';

// Every HTTP route of the server, described once: the OpenAPI document is generated from this
// table, and a test checks it against the routes the Hono app really registers (and back).

/** What a route answers on success. */
export type RouteSuccess =
  | { kind: 'json'; status: number; schema: z.ZodType; description: string; headers?: readonly string[] }
  | { kind: 'empty'; status: number; description: string }
  | { kind: 'sse'; status: number; description: string; frames: string }
  | { kind: 'upgrade'; description: string };

/** One route: method and Hono path, its inputs, what it answers and the error codes it may answer. */
export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** The Hono path (`:param` segments). */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** No API key needed. */
  public?: boolean;
  /** Served by the WebSocket gateway on the `upgrade` event, not by the Hono app. */
  gateway?: boolean;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Request headers the route reads besides the key. */
  headers?: readonly ('Idempotency-Key' | 'Last-Event-ID')[];
  success: RouteSuccess;
  /** Other JSON answers that are not the error body (`GET /readyz`'s 503). */
  alsoAnswers?: readonly { status: number; schema: z.ZodType; description: string }[];
  errors: readonly ErrorCode[];
}

// Error codes shared by groups of routes.
const FAULTS: readonly ErrorCode[] = ['INTERNAL', 'UNAVAILABLE', 'TRANSACTION_CONFLICT', 'TIMEOUT'];
const AUTH: readonly ErrorCode[] = ['MISSING_API_KEY', 'INVALID_API_KEY', ...FAULTS];
const SPACE: readonly ErrorCode[] = [...AUTH, 'INVALID_ID', 'FORBIDDEN', 'SPACE_NOT_FOUND'];
const SESSION: readonly ErrorCode[] = [...SPACE, 'SESSION_NOT_FOUND'];
const BODY: readonly ErrorCode[] = ['INVALID_JSON', 'INVALID_TEXT', 'VALIDATION_ERROR', 'PAYLOAD_TOO_LARGE'];
const TURN: readonly ErrorCode[] = [
  ...SESSION,
  ...BODY,
  'SESSION_ARCHIVED',
  'SESSION_BUSY',
  'TURN_CONFLICT',
  'TURN_ID_CONFLICT',
  'TURN_CANCELLED',
  'CONTEXT_TOO_LONG',
  'NO_LLM',
  'LLM_ERROR',
  'INVALID_MODEL_REPLY',
  'INVALID_TOOL',
  'DUPLICATE_TOOL',
  'ABORTED',
  'AGENT_DISPOSED',
  'QUOTA_EXCEEDED',
  'TOO_MANY_TURNS',
  'RATE_LIMITED',
];
// Memory work on demand: LLM calls like a turn, without a body.
const MEMORY: readonly ErrorCode[] = [
  ...SESSION,
  'SESSION_ARCHIVED',
  'INVALID_OPERATION',
  'NO_LLM',
  'LLM_ERROR',
  'INVALID_MODEL_REPLY',
  'AGENT_DISPOSED',
  'QUOTA_EXCEEDED',
  'TOO_MANY_TURNS',
];

const SPACES = '/spaces';
const SPACE_PATH = '/spaces/:spaceId';
const SESSION_PATH = `${SPACE_PATH}/sessions/:id`;
const TURN_PATH = `${SESSION_PATH}/turns/:turnId`;
const NEXT_CURSOR = ['X-Next-Cursor'] as const;

/** The session data slots: `{ content: string | null }` each; `PUT` only where writable. */
const SLOTS = [
  { path: 'system-prompt', name: 'SystemPrompt', writable: true },
  { path: 'memory', name: 'Memory', writable: false },
  { path: 'insight', name: 'Insight', writable: false },
  { path: 'consolidate-prompt', name: 'ConsolidatePrompt', writable: true },
  { path: 'integrate-prompt', name: 'IntegratePrompt', writable: true },
] as const;

const slotRoutes: RouteSpec[] = SLOTS.flatMap((slot): RouteSpec[] => {
  const read: RouteSpec = {
    method: 'get',
    path: `${SESSION_PATH}/${slot.path}`,
    operationId: `get${slot.name}`,
    tag: 'Session data',
    summary: `Read the session's ${slot.path.replace('-', ' ')}`,
    success: { kind: 'json', status: 200, schema: slotContentSchema, description: '`null` when unset.' },
    errors: SESSION,
  };
  if (!slot.writable) return [read];
  return [
    read,
    {
      method: 'put',
      path: `${SESSION_PATH}/${slot.path}`,
      operationId: `put${slot.name}`,
      tag: 'Session data',
      summary: `Write the session's ${slot.path.replace('-', ' ')}`,
      body: contentBody,
      success: { kind: 'json', status: 200, schema: slotContentSchema, description: 'The stored content.' },
      errors: [...SESSION, ...BODY, 'SESSION_ARCHIVED'],
    },
  ];
});

/** Every route of the server. */
export const ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    tag: 'Operations',
    summary: 'Liveness',
    public: true,
    success: { kind: 'json', status: 200, schema: healthSchema, description: 'The process serves requests.' },
    errors: [],
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readiness',
    tag: 'Operations',
    summary: 'Readiness (the database answers)',
    public: true,
    success: { kind: 'json', status: 200, schema: readinessSchema, description: 'Ready.' },
    alsoAnswers: [
      {
        status: 503,
        schema: readinessSchema,
        description: 'Not ready: `{ status: "not_ready", error, code: "NOT_READY" }`.',
      },
    ],
    errors: [],
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApiDocument',
    tag: 'Operations',
    summary: 'This OpenAPI document (and `GET /docs`, its Swagger UI page)',
    description: 'Both are off when the server runs with `docs: false` (`STELLO_DOCS=off`).',
    public: true,
    success: {
      kind: 'json',
      status: 200,
      schema: z.record(z.string(), z.unknown()),
      description: 'The OpenAPI 3.1 document.',
    },
    errors: [],
  },
  {
    method: 'get',
    path: '/asyncapi.json',
    operationId: 'asyncApiDocument',
    tag: 'Operations',
    summary: 'The AsyncAPI 3.0 document of the WebSocket and the SSE streams',
    description: 'Off with `docs: false` (`STELLO_DOCS=off`), like this document.',
    public: true,
    success: {
      kind: 'json',
      status: 200,
      schema: z.record(z.string(), z.unknown()),
      description: 'The AsyncAPI 3.0 document; its schemas are the components of this one.',
    },
    errors: [],
  },
  {
    method: 'post',
    path: SPACES,
    operationId: 'createSpace',
    tag: 'Spaces',
    summary: 'Create a space (with its root session)',
    body: createSpaceBody,
    success: { kind: 'json', status: 201, schema: spaceSchema, description: 'The new space.' },
    errors: [...AUTH, ...BODY, 'INVALID_ARGUMENT'],
  },
  {
    method: 'get',
    path: SPACES,
    operationId: 'listSpaces',
    tag: 'Spaces',
    summary: "List the caller's spaces (oldest first, paged)",
    query: listSpacesQuery,
    success: {
      kind: 'json',
      status: 200,
      schema: spacePageSchema,
      description: 'One page; `X-Next-Cursor` names the next one.',
      headers: NEXT_CURSOR,
    },
    errors: [...AUTH, 'VALIDATION_ERROR'],
  },
  {
    method: 'get',
    path: SPACE_PATH,
    operationId: 'getSpace',
    tag: 'Spaces',
    summary: 'Read a space',
    success: { kind: 'json', status: 200, schema: spaceSchema, description: 'The space.' },
    errors: SPACE,
  },
  {
    method: 'patch',
    path: SPACE_PATH,
    operationId: 'updateSpace',
    tag: 'Spaces',
    summary: 'Update a space',
    body: updateSpaceBody,
    success: { kind: 'json', status: 200, schema: spaceSchema, description: 'The updated space.' },
    errors: [...SPACE, ...BODY, 'INVALID_ARGUMENT'],
  },
  {
    method: 'delete',
    path: SPACE_PATH,
    operationId: 'deleteSpace',
    tag: 'Spaces',
    summary: 'Delete a space and everything in it',
    success: { kind: 'empty', status: 204, description: 'Deleted.' },
    errors: SPACE,
  },
  {
    method: 'get',
    path: `${SPACE_PATH}/events`,
    operationId: 'spaceEvents',
    tag: 'Spaces',
    summary: "Follow the space's events (Server-Sent Events, live only)",
    description:
      'Only on servers with a control channel (the default). Each event: `event:` the kind, `id:` a counter, `data:` a `SpaceEvent`. A subscriber that falls too far behind gets an `error` event (`SpaceEventsOverflow`) and the stream ends.',
    success: {
      kind: 'sse',
      status: 200,
      description: 'The stream of space events.',
      frames: 'SpaceEvent',
    },
    errors: SPACE,
  },
  {
    method: 'get',
    path: `${SPACE_PATH}/ws`,
    operationId: 'openWebSocket',
    tag: 'WebSocket',
    summary: "Open the space's WebSocket",
    description:
      'An HTTP upgrade. The key comes from `X-API-Key`, or for browsers from a `stello.key.<KEY>` entry of `Sec-WebSocket-Protocol` offered with `stello.v1` (the server selects `stello.v1`). The client sends `ClientMessage` frames and receives `ServerFrame` frames (JSON text). Refused upgrades get a plain HTTP error with the body below.',
    gateway: true,
    success: { kind: 'upgrade', description: 'Switching Protocols: the WebSocket is open.' },
    errors: [...SPACE, 'INVALID_HANDSHAKE', 'TOO_MANY_CONNECTIONS'],
  },
  {
    method: 'get',
    path: `${SPACE_PATH}/sessions`,
    operationId: 'listSessions',
    tag: 'Sessions',
    summary: 'List the sessions (flat, or the nested tree with `?view=tree`)',
    query: listSessionsQuery,
    success: {
      kind: 'json',
      status: 200,
      schema: z.union([sessionListSchema, sessionTreeNodeSchema]),
      description:
        'The flat list (`SessionList`), or the root of the tree (`SessionTreeNode`) with `view=tree`; `meta.<key>=<value>` filters by metadata.',
      headers: NEXT_CURSOR,
    },
    errors: [...SPACE, 'VALIDATION_ERROR', 'INVALID_ARGUMENT'],
  },
  {
    method: 'get',
    path: SESSION_PATH,
    operationId: 'getSession',
    tag: 'Sessions',
    summary: 'Read a session',
    success: { kind: 'json', status: 200, schema: sessionInfoSchema, description: 'The session.' },
    errors: SESSION,
  },
  {
    method: 'get',
    path: `${SESSION_PATH}/messages`,
    operationId: 'listMessages',
    tag: 'Sessions',
    summary: "Read a session's records (oldest first; whole, or paged with `limit`/`after`)",
    query: messagesQuery,
    success: {
      kind: 'json',
      status: 200,
      schema: recordPageSchema,
      description:
        'The records; `X-Next-Cursor` names the next page, `X-Prev-Cursor` the older one (with `before`).',
      headers: ['X-Next-Cursor', 'X-Prev-Cursor'],
    },
    errors: [...SESSION, 'VALIDATION_ERROR'],
  },
  {
    method: 'post',
    path: `${SESSION_PATH}/turn`,
    operationId: 'turn',
    tag: 'Turns',
    summary: 'Run a turn and answer its result',
    description:
      'A retry with the same `turnId` (or `Idempotency-Key`) answers the first result instead of running again.',
    body: turnBody,
    headers: ['Idempotency-Key'],
    success: { kind: 'json', status: 200, schema: turnResultSchema, description: 'The stored result.' },
    errors: TURN,
  },
  {
    method: 'post',
    path: `${SESSION_PATH}/stream`,
    operationId: 'streamTurn',
    tag: 'Turns',
    summary: 'Run a turn, streaming its frames (Server-Sent Events)',
    description:
      'First a `turn.started` event, then the frames of the turn (`event:` its type, `id:` its seq, `data:` a `TurnStreamFrame`), ending with `stream.end`, `turn.cancelled` or `error`. The turn id is in `X-Turn-Id`. A disconnect does not cancel the turn; resume with `GET …/turns/{turnId}/events`.',
    body: turnBody,
    headers: ['Idempotency-Key'],
    success: { kind: 'sse', status: 200, description: 'The frames of the turn.', frames: 'TurnStreamFrame' },
    errors: TURN,
  },
  {
    method: 'post',
    path: `${SESSION_PATH}/fork`,
    operationId: 'forkSession',
    tag: 'Sessions',
    summary: 'Fork a child session',
    body: forkOptions,
    success: { kind: 'json', status: 201, schema: sessionInfoSchema, description: 'The new child session.' },
    errors: [
      ...SESSION,
      ...BODY,
      'SESSION_ARCHIVED',
      'PROFILE_NOT_FOUND',
      'INVALID_REFERENCE',
      'CONFLICT',
      'QUOTA_EXCEEDED',
    ],
  },
  {
    method: 'post',
    path: `${SESSION_PATH}/consolidate`,
    operationId: 'consolidateSession',
    tag: 'Memory',
    summary: "Consolidate a session's memory now",
    description:
      'Joins a consolidation already running on the session; 409 for the root or an archived session.',
    success: { kind: 'json', status: 200, schema: consolidateResponseSchema, description: 'The new memory.' },
    errors: MEMORY,
  },
  {
    method: 'post',
    path: `${SPACE_PATH}/integrate`,
    operationId: 'integrateSpace',
    tag: 'Memory',
    summary: "Integrate the children's memories at the root now",
    description:
      'Joins an integration already running; writes the synthesis and one insight per child it names.',
    success: {
      kind: 'json',
      status: 200,
      schema: integrateResponseSchema,
      description: 'The synthesis and the insights sent.',
    },
    errors: MEMORY.filter((code) => code !== 'SESSION_NOT_FOUND'),
  },
  {
    method: 'get',
    path: `${SESSION_PATH}/export`,
    operationId: 'exportSubtree',
    tag: 'Subtrees',
    summary: 'Export a session and its descendants as a `stello.subtree` document',
    success: { kind: 'json', status: 200, schema: subtreeDocumentSchema, description: 'The document.' },
    errors: [...SESSION, 'SUBTREE_TOO_LARGE'],
  },
  {
    method: 'post',
    path: `${SESSION_PATH}/import`,
    operationId: 'importSubtree',
    tag: 'Subtrees',
    summary: 'Copy a `stello.subtree` document under this session, with new ids (all or nothing)',
    body: subtreeDocumentSchema,
    success: {
      kind: 'json',
      status: 201,
      schema: subtreeImportResultSchema,
      description: "The copy's root session, with the id map and counts.",
    },
    errors: [
      ...SESSION,
      ...BODY,
      'INVALID_ARGUMENT',
      'SESSION_ARCHIVED',
      'SUBTREE_TOO_LARGE',
      'QUOTA_EXCEEDED',
    ],
  },
  {
    method: 'post',
    path: `${SESSION_PATH}/archive-subtree`,
    operationId: 'archiveSubtree',
    tag: 'Subtrees',
    summary: 'Archive a session and all its descendants in one statement',
    success: {
      kind: 'json',
      status: 200,
      schema: subtreeArchiveResultSchema,
      description: 'The session, with every archived id.',
    },
    errors: [...SESSION, 'INVALID_OPERATION'],
  },
  {
    method: 'post',
    path: `${SESSION_PATH}/archive`,
    operationId: 'archiveSession',
    tag: 'Sessions',
    summary: 'Archive a session (its data stays readable)',
    success: {
      kind: 'json',
      status: 200,
      schema: archivedSessionSchema,
      description: 'The archived session.',
    },
    errors: [...SESSION, 'INVALID_OPERATION', 'AGENT_DISPOSED'],
  },
  {
    method: 'get',
    path: TURN_PATH,
    operationId: 'getTurn',
    tag: 'Turns',
    summary: "Read a turn's status (and its result once completed)",
    success: { kind: 'json', status: 200, schema: turnInfoSchema, description: 'The turn.' },
    errors: [...SESSION, 'TURN_NOT_FOUND'],
  },
  {
    method: 'post',
    path: `${TURN_PATH}/cancel`,
    operationId: 'cancelTurn',
    tag: 'Turns',
    summary: 'Cancel a turn, wherever it runs',
    success: { kind: 'json', status: 202, schema: cancelTurnResultSchema, description: 'Cancel requested.' },
    errors: [...SESSION, 'TURN_NOT_FOUND'],
  },
  {
    method: 'get',
    path: `${TURN_PATH}/events`,
    operationId: 'resumeTurnStream',
    tag: 'Turns',
    summary: "Resume a turn's stream after `Last-Event-ID` (or `?after=`)",
    description:
      'The frames after that seq, then the live ones, then the end; for a turn that ended elsewhere, its stored end.',
    headers: ['Last-Event-ID'],
    query: z.object({
      after: z
        .string()
        .optional()
        .meta({ description: 'The last seq seen (the `Last-Event-ID` header wins).' }),
    }),
    success: { kind: 'sse', status: 200, description: 'The frames of the turn.', frames: 'TurnStreamFrame' },
    errors: [...SESSION, 'TURN_NOT_FOUND'],
  },
  ...slotRoutes,
];
