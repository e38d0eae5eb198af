import {
  clientMessageSchema,
  ERROR_CODES,
  type ErrorCode,
  errorBody,
  serverFrameSchema,
  spaceEventSchema,
  spaceEventsOverflowFrame,
  turnStartedFrame,
  turnStreamFrame,
  uuidField,
  WS_KEY_SUBPROTOCOL_PREFIX,
  WS_SUBPROTOCOL,
} from '@stello-ai/protocol';
import { z } from 'zod';
import {
  createDocument,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponsesObject,
} from 'zod-openapi';
import { ERROR_STATUS } from '../error-mapping';
import { ROUTES, type RouteSpec } from './route-table';

/**
 * The version of the wire contract the document describes (the WebSocket subprotocol is
 * `stello.v1`). Not the package version: the committed copy must not change on every release.
 */
export const API_VERSION = '1';

/** The document's `info.description`: the overview a reader of `/docs` sees first. */
const OVERVIEW = [
  'The REST API of Stello Server. Every `/spaces` route needs the `X-API-Key` header.',
  `The WebSocket at \`GET /spaces/{spaceId}/ws\` takes the key from \`X-API-Key\`, or, for browsers, from a \`${WS_KEY_SUBPROTOCOL_PREFIX}<KEY>\` entry of \`Sec-WebSocket-Protocol\` offered together with \`${WS_SUBPROTOCOL}\`; its messages are the \`ClientMessage\` and \`ServerFrame\` schemas.`,
  'Errors are JSON `{ "error": "<message>", "code": "<CODE>", "details"? }` (`ErrorBody`); the code is the contract, the message is for humans.',
].join('\n\n');

/** Hono's `/spaces/:spaceId` as OpenAPI's `/spaces/{spaceId}`. */
export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, '{$1}');
}

const PATH_PARAM_DESCRIPTIONS: Record<string, string> = {
  spaceId: 'Space id.',
  id: 'Session id (of this space).',
  turnId: 'Turn id.',
};

function pathParams(path: string): z.ZodObject | undefined {
  const names = [...path.matchAll(/:([A-Za-z]+)/g)].map((match) => match[1] as string);
  if (names.length === 0) return undefined;
  return z.object(
    Object.fromEntries(
      names.map((name) => [name, uuidField.meta({ description: PATH_PARAM_DESCRIPTIONS[name] })]),
    ),
  );
}

const HEADER_DESCRIPTIONS = {
  'Idempotency-Key':
    'Any key up to 255 characters: a retry with the same key finds the same turn (instead of `turnId`).',
  'Last-Event-ID': 'The last seq the client saw; the stream resumes after it.',
} as const;

function headerParams(route: RouteSpec): z.ZodObject | undefined {
  if (!route.headers?.length) return undefined;
  return z.object(
    Object.fromEntries(
      route.headers.map((name) => [
        name,
        z.string().optional().meta({ description: HEADER_DESCRIPTIONS[name] }),
      ]),
    ),
  );
}

/** The error responses of a route: one per status, listing its codes. */
function errorResponses(codes: readonly ErrorCode[]): ZodOpenApiResponsesObject {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: ZodOpenApiResponsesObject = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status) as `${1 | 2 | 3 | 4 | 5}${string}`] = {
      description: `Codes: ${list.map((code) => `\`${code}\``).join(', ')}.`,
      'x-error-codes': list,
      content: { 'application/json': { schema: errorBody } },
    };
  }
  return responses;
}

function successResponse(route: RouteSpec): ZodOpenApiResponsesObject {
  const success = route.success;
  switch (success.kind) {
    case 'json':
      return {
        [String(success.status)]: {
          description: success.description,
          ...(success.headers && {
            headers: z.object(
              Object.fromEntries(
                success.headers.map((name) => [
                  name,
                  z
                    .string()
                    .optional()
                    .meta({ description: 'The cursor of the next page; absent on the last page.' }),
                ]),
              ),
            ),
          }),
          content: { 'application/json': { schema: success.schema } },
        },
      };
    case 'empty':
      return { [String(success.status)]: { description: success.description } };
    case 'sse':
      return {
        [String(success.status)]: {
          description: `${success.description} Each event's \`data:\` is a \`${success.frames}\` (see components).`,
          ...(success.frames === 'TurnStreamFrame' && {
            headers: z.object({ 'X-Turn-Id': uuidField.meta({ description: "The turn's id." }) }),
          }),
          content: {
            'text/event-stream': {
              schema: z
                .string()
                .meta({ description: `Server-Sent Events; each data: is a ${success.frames}.` }),
              'x-sse-data': { $ref: `#/components/schemas/${success.frames}` },
            },
          },
        },
      };
    case 'upgrade':
      return { '101': { description: success.description } };
  }
}

function otherResponses(route: RouteSpec): ZodOpenApiResponsesObject {
  return Object.fromEntries(
    (route.alsoAnswers ?? []).map((answer) => [
      String(answer.status),
      { description: answer.description, content: { 'application/json': { schema: answer.schema } } },
    ]),
  );
}

function operation(route: RouteSpec): ZodOpenApiOperationObject {
  const path = pathParams(route.path);
  const header = headerParams(route);
  const op: ZodOpenApiOperationObject = {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description && { description: route.description }),
    security: route.public ? [] : [{ ApiKey: [] }],
    responses: { ...successResponse(route), ...otherResponses(route), ...errorResponses(route.errors) },
  };
  if (path || route.query || header) {
    op.requestParams = {
      ...(path && { path }),
      ...(route.query && { query: route.query }),
      ...(header && { header }),
    };
  }
  if (route.body) {
    op.requestBody = { required: true, content: { 'application/json': { schema: route.body } } };
  }
  return op;
}

function paths(): ZodOpenApiPathsObject {
  const out: ZodOpenApiPathsObject = {};
  for (const route of ROUTES) {
    const key = toOpenApiPath(route.path);
    out[key] = { ...out[key], [route.method]: operation(route) };
  }
  return out;
}

/** Every code with its HTTP status, for the overview. */
function codeTable(): string {
  return ERROR_CODES.map((code) => `- \`${code}\`: ${ERROR_STATUS[code]}`).join('\n');
}

/**
 * Builds the OpenAPI 3.1 document of the server from the route table and the protocol's zod
 * schemas (the same objects that validate the requests), with `zod-openapi`. Frames of the
 * WebSocket and of the SSE routes are component schemas.
 */
export function createOpenApiDocument(): ReturnType<typeof createDocument> {
  const document = createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Stello Server',
      version: API_VERSION,
      description: `${OVERVIEW}\n\nEvery error code with its HTTP status:\n\n${codeTable()}`,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: [
      { name: 'Spaces' },
      { name: 'Sessions' },
      { name: 'Turns' },
      { name: 'Session data' },
      { name: 'WebSocket' },
      { name: 'Operations' },
    ],
    paths: paths(),
    components: {
      securitySchemes: {
        ApiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-API-Key',
          description: `The user's API key. On the WebSocket, browsers offer \`${WS_SUBPROTOCOL}, ${WS_KEY_SUBPROTOCOL_PREFIX}<KEY>\` in \`Sec-WebSocket-Protocol\` instead.`,
        },
      },
      schemas: {
        ErrorBody: errorBody,
        ClientMessage: clientMessageSchema,
        ServerFrame: serverFrameSchema,
        TurnStreamFrame: turnStreamFrame,
        TurnStartedFrame: turnStartedFrame,
        SpaceEvent: spaceEventSchema,
        SpaceEventsOverflow: spaceEventsOverflowFrame,
      },
    },
  });
  return pruneUnreferencedSchemas(document, FRAME_COMPONENTS);
}

/** Component schemas kept even though no path refers to them: the frames of the WebSocket and SSE. */
const FRAME_COMPONENTS = [
  'ClientMessage',
  'ServerFrame',
  'TurnStreamFrame',
  'TurnStartedFrame',
  'SpaceEvent',
  'SpaceEventsOverflow',
];

/**
 * Drops the component schemas nothing refers to. zod-openapi renders manually registered schemas
 * in both request and response mode, which leaves unused `…Output` twins of the client messages.
 */
function pruneUnreferencedSchemas<TDocument extends { components?: { schemas?: Record<string, unknown> } }>(
  document: TDocument,
  roots: readonly string[],
): TDocument {
  const schemas = document.components?.schemas;
  if (!schemas) return document;
  const prefix = '#/components/schemas/';
  const kept = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string' && inner.startsWith(prefix)) {
        const name = inner.slice(prefix.length);
        if (!kept.has(name)) {
          kept.add(name);
          visit(schemas[name]);
        }
      } else visit(inner);
    }
  };
  visit({ ...document, components: { ...document.components, schemas: {} } });
  for (const root of roots) visit({ $ref: `${prefix}${root}` });
  for (const name of Object.keys(schemas)) if (!kept.has(name)) delete schemas[name];
  return document;
}

let cached: string | undefined;

/** The document as JSON text (built once per process). */
export function openApiDocumentJson(): string {
  cached ??= `${JSON.stringify(createOpenApiDocument(), null, 2)}\n`;
  return cached;
}
