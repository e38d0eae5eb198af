import { z } from 'zod';
import {
  CONTENT_MAX_CHARS,
  INPUT_MAX_CHARS,
  LABEL_MAX_CHARS,
  PAGE_MAX_LIMIT,
  SCOPE_MAX_CHARS,
  UUID_PATTERN,
} from './limits';

// What clients send: REST bodies and queries, and the fields the WebSocket messages share with them.
// The server validates with these very objects; unknown fields are ignored (stripped).

/** A UUID (see {@link UUID_PATTERN}). */
export const uuidField = z.string().regex(UUID_PATTERN, { error: 'must be a UUID' }).meta({ format: 'uuid' });

const label = z
  .string()
  .max(LABEL_MAX_CHARS)
  .refine((value) => value.trim().length > 0, { error: 'must not be blank' })
  .meta({ description: 'Non-blank label.' });
const content = z.string().max(CONTENT_MAX_CHARS);
const config = z.record(z.string(), z.unknown()).meta({ description: 'Free-form JSON object.' });

/** Body of `POST /spaces`. `null` prompts are treated as absent. */
export const createSpaceBody = z
  .object({
    label,
    systemPrompt: content.nullish(),
    consolidatePrompt: content.nullish(),
    integratePrompt: content.nullish(),
    config: config.optional(),
  })
  .meta({ id: 'CreateSpaceBody', description: 'A new space; `null` prompts are treated as absent.' });

/** Body of `PATCH /spaces/:spaceId`: only these fields; `null` clears a prompt. */
export const updateSpaceBody = z
  .object({
    label: label.optional(),
    systemPrompt: content.nullable().optional(),
    consolidatePrompt: content.nullable().optional(),
    integratePrompt: content.nullable().optional(),
    config: config.optional(),
  })
  .meta({
    id: 'UpdateSpaceBody',
    description:
      'Only the fields present change; `null` clears a prompt; `config` replaces the whole object.',
  });

/** Turn input of REST `turn` / `stream` and WS `session.message` / `session.stream`. */
export const turnInput = z.string().min(1, { error: 'must not be empty' }).max(INPUT_MAX_CHARS);

/** A client-chosen turn id (safe retries): a UUID. */
export const turnIdField = uuidField.meta({
  description: 'Client-chosen turn id (a UUID): a retry with the same id answers the first result.',
});
/** What a turn does when its session runs another one. */
export const concurrencyField = z.enum(['enqueue', 'reject']).meta({
  description: '`enqueue` waits for the running turn (default); `reject` fails with `SESSION_BUSY`.',
});

/** Body of `POST …/turn` and `POST …/stream`. */
export const turnBody = z
  .object({
    input: turnInput,
    turnId: turnIdField.optional(),
    concurrency: concurrencyField.optional(),
  })
  .meta({ id: 'TurnBody' });

/** Fork options of REST `fork` and WS `session.fork`. */
export const forkOptions = z
  .object({
    label,
    scope: z.string().max(SCOPE_MAX_CHARS).nullish(),
    systemPrompt: content.optional().meta({ description: 'Default: the parent system prompt.' }),
    context: z
      .enum(['none', 'inherit'])
      .optional()
      .meta({ description: "`inherit` copies the parent's records (default `none`)." }),
    fromRecordId: z
      .string()
      .regex(/^\d{1,19}$/, { error: 'must be a record id' })
      .optional()
      .meta({
        description:
          "Fork from an earlier message: the child inherits the history up to and including this record (`id` of `GET …/messages`), its tool-call group whole. Implies `context: 'inherit'`; `context: 'none'` with it is 400.",
      }),
  })
  .refine((options) => options.fromRecordId === undefined || options.context !== 'none', {
    error: "`fromRecordId` needs `context: 'inherit'`",
    path: ['context'],
  })
  .meta({ id: 'ForkOptions' });

/** Body of `PUT` on a session data route. */
export const contentBody = z.object({ content }).meta({ id: 'ContentBody' });

/** WS `session.enter` session id. */
export const sessionIdField = uuidField;

const pageLimit = z
  .string()
  .regex(/^\d{1,9}$/, { error: 'must be a positive integer' })
  .transform(Number)
  .pipe(z.number().int().min(1).max(PAGE_MAX_LIMIT))
  .meta({ description: `Page size, 1 to ${PAGE_MAX_LIMIT}.` });
const cursor = z
  .string()
  .min(1)
  .max(512)
  .meta({ description: 'The `X-Next-Cursor` header of the previous page.' });

/** Query of `GET /spaces`. */
export const listSpacesQuery = z.object({ limit: pageLimit.optional(), after: cursor.optional() });

/** Most `tag` filters one `GET …/sessions` accepts. */
export const SESSION_FILTER_MAX_TAGS = 20;

/**
 * Query of `GET …/sessions` (`meta.<key>=<value>` filters are read apart by the server).
 * `tag` may repeat: a session must carry every tag given.
 */
export const listSessionsQuery = z.object({
  view: z.enum(['flat', 'tree']).optional().meta({
    description: '`tree` answers the nested tree instead of the flat list (no paging, no filters).',
  }),
  limit: pageLimit.optional(),
  after: cursor.optional(),
  status: z.enum(['active', 'archived']).optional(),
  tag: z
    .array(z.string().min(1).max(LABEL_MAX_CHARS))
    .max(SESSION_FILTER_MAX_TAGS)
    .optional()
    .meta({ description: 'Repeatable: a session must carry every tag given.' }),
  labelPrefix: z.string().min(1).max(LABEL_MAX_CHARS).optional().meta({ description: 'Taken literally.' }),
});

/** Query of `GET …/messages`: `after` pages forward, `before` backward (`X-Prev-Cursor`); not both. */
export const messagesQuery = z
  .object({
    limit: pageLimit.optional(),
    after: cursor.optional(),
    before: cursor
      .optional()
      .meta({ description: 'A record id or the `X-Prev-Cursor` of the previous page.' }),
  })
  .refine((query) => query.after === undefined || query.before === undefined, {
    error: 'give `after` or `before`, not both',
    path: ['before'],
  });

/** Body of `POST /spaces`, as sent. */
export type CreateSpaceBody = z.input<typeof createSpaceBody>;
/** Body of `PATCH /spaces/:spaceId`, as sent. */
export type UpdateSpaceBody = z.input<typeof updateSpaceBody>;
/** Body of `POST …/turn` and `POST …/stream`, as sent. */
export type TurnBody = z.input<typeof turnBody>;
/** Body of `POST …/fork` and the `options` of WS `session.fork`, as sent. */
export type ForkOptionsBody = z.input<typeof forkOptions>;
/** Body of `PUT` on a session data route, as sent. */
export type ContentBody = z.input<typeof contentBody>;
