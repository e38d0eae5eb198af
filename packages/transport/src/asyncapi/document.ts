import { WS_KEY_SUBPROTOCOL_PREFIX, WS_SUBPROTOCOL } from '@stello-ai/protocol';
import { API_VERSION, createOpenApiDocument } from '../openapi/document';

// The AsyncAPI 3.0 document of the server's streams: the WebSocket of a space and the three SSE
// routes. Its schemas are the OpenAPI document's components, generated from the same zod schemas
// of @stello-ai/protocol that validate the frames: nothing is written here by hand but the
// channels and operations that name them.

/** The frame schemas the channels use; everything they refer to comes along. */
const MESSAGES = {
  ClientMessage: 'A message from the client on the WebSocket.',
  ServerFrame: 'A frame from the server on the WebSocket: answers, errors, stream frames, space events.',
  TurnStartedFrame: 'The first event of `POST …/stream`: the turn id, before any frame of the turn.',
  TurnStreamFrame: "A frame of a streamed turn (SSE `data:`; its `id:` is the frame's `seq`).",
  SpaceEvent: 'A change in a space (SSE `data:` of `GET /spaces/{spaceId}/events`).',
  SpaceEventsOverflow: 'Sent once before the server drops a subscriber that does not keep up.',
} as const;

type MessageName = keyof typeof MESSAGES;

const SPACE_ID = { description: 'Space id.' };
const SESSION_ID = { description: 'Session id (of this space).' };

/** A channel with its messages (by component name). */
function channel(address: string, description: string, messages: readonly MessageName[], parameters: object) {
  return {
    address,
    description,
    parameters,
    messages: Object.fromEntries(messages.map((name) => [name, { $ref: `#/components/messages/${name}` }])),
  };
}

/** An operation of `channelName`: the server sends (`receive` for a client) or receives. */
function operation(
  action: 'send' | 'receive',
  channelName: string,
  messages: readonly MessageName[],
  summary: string,
) {
  return {
    action,
    summary,
    channel: { $ref: `#/channels/${channelName}` },
    messages: messages.map((name) => ({ $ref: `#/channels/${channelName}/messages/${name}` })),
    security: [{ $ref: '#/components/securitySchemes/apiKey' }],
  };
}

/**
 * An OpenAPI 3.1 schema in the AsyncAPI Schema dialect: the same JSON Schema, except that
 * `discriminator` is the property's name, not OpenAPI's `{ propertyName, mapping }` object.
 */
export function toAsyncApiSchema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toAsyncApiSchema);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      if (key === 'discriminator' && item !== null && typeof item === 'object' && 'propertyName' in item) {
        return [key, (item as { propertyName: unknown }).propertyName];
      }
      return [key, toAsyncApiSchema(item)];
    }),
  );
}

/** Builds the AsyncAPI 3.0 document (operations are described from the client's side). */
export function createAsyncApiDocument(): Record<string, unknown> {
  const schemas = toAsyncApiSchema(createOpenApiDocument().components?.schemas ?? {});
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Stello Server streams',
      version: API_VERSION,
      description: [
        'The live side of Stello Server: the WebSocket of a space and the Server-Sent Events routes. The REST API is in `/openapi.json`.',
        `The WebSocket takes the key from \`X-API-Key\`, or, for browsers, from a \`${WS_KEY_SUBPROTOCOL_PREFIX}<KEY>\` entry of \`Sec-WebSocket-Protocol\` offered together with \`${WS_SUBPROTOCOL}\`.`,
        'Frames of a turn carry its `turnId` and a `seq` counting from 1; a client that lost its connection resumes after the last `seq` it saw (`session.resume`, or SSE `Last-Event-ID`).',
      ].join('\n\n'),
      license: { name: 'Apache-2.0' },
    },
    defaultContentType: 'application/json',
    channels: {
      spaceSocket: channel(
        '/spaces/{spaceId}/ws',
        'The WebSocket of a space (`GET` with `Upgrade: websocket`).',
        ['ClientMessage', 'ServerFrame'],
        { spaceId: SPACE_ID },
      ),
      turnStream: channel(
        '/spaces/{spaceId}/sessions/{id}/stream',
        'A streamed turn over SSE: `POST` with `{ input, turnId? }`.',
        ['TurnStartedFrame', 'TurnStreamFrame'],
        { spaceId: SPACE_ID, id: SESSION_ID },
      ),
      turnEvents: channel(
        '/spaces/{spaceId}/sessions/{id}/turns/{turnId}/events',
        "A turn's frames after `Last-Event-ID` (or `?after=`): the resume of a stream.",
        ['TurnStreamFrame'],
        { spaceId: SPACE_ID, id: SESSION_ID, turnId: { description: 'Turn id.' } },
      ),
      spaceEvents: channel(
        '/spaces/{spaceId}/events',
        "The space's changes, live (no replay): SSE.",
        ['SpaceEvent', 'SpaceEventsOverflow'],
        { spaceId: SPACE_ID },
      ),
    },
    operations: {
      sendClientMessage: operation(
        'send',
        'spaceSocket',
        ['ClientMessage'],
        'Send a message on the WebSocket.',
      ),
      receiveServerFrame: operation(
        'receive',
        'spaceSocket',
        ['ServerFrame'],
        'Receive the WebSocket frames.',
      ),
      receiveTurnStream: operation(
        'receive',
        'turnStream',
        ['TurnStartedFrame', 'TurnStreamFrame'],
        'Receive the frames of a turn streamed over SSE.',
      ),
      receiveTurnEvents: operation('receive', 'turnEvents', ['TurnStreamFrame'], "Resume a turn's frames."),
      receiveSpaceEvents: operation(
        'receive',
        'spaceEvents',
        ['SpaceEvent', 'SpaceEventsOverflow'],
        "Receive a space's changes.",
      ),
    },
    components: {
      schemas,
      messages: Object.fromEntries(
        (Object.keys(MESSAGES) as MessageName[]).map((name) => [
          name,
          { name, summary: MESSAGES[name], payload: { $ref: `#/components/schemas/${name}` } },
        ]),
      ),
      securitySchemes: {
        apiKey: { type: 'httpApiKey', name: 'X-API-Key', in: 'header', description: "The user's API key." },
      },
    },
  };
}

let cached: string | undefined;

/** The document as served at `GET /asyncapi.json` and committed as docs/asyncapi.json. */
export function asyncApiDocumentJson(): string {
  cached ??= `${JSON.stringify(createAsyncApiDocument(), null, 2)}\n`;
  return cached;
}
