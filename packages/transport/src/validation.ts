import { isUuid, UUID_PATTERN } from '@stello-ai/runtime';
import type { Context } from 'hono';
import { z } from 'zod';
import { TransportError } from './errors';
import { assertWellFormedText, decodeUtf8 } from './well-formed-text';

/** Longest accepted space or session label, in characters. */
export const LABEL_MAX_CHARS = 200;
/** Longest accepted fork scope, in characters. */
export const SCOPE_MAX_CHARS = 200;
/** Longest accepted turn input, in characters (the body limit applies too). */
export const INPUT_MAX_CHARS = 100_000;
/** Longest accepted prompt or slot content, in characters (the body limit applies too). */
export const CONTENT_MAX_CHARS = 200_000;
/** Largest page of `GET …/messages?limit=` and `GET /spaces?limit=`. */
export const PAGE_MAX_LIMIT = 1000;

const uuid = z.string().regex(UUID_PATTERN, { error: 'must be a UUID' });
const label = z
  .string()
  .max(LABEL_MAX_CHARS)
  .refine((value) => value.trim().length > 0, { error: 'must not be blank' });
const content = z.string().max(CONTENT_MAX_CHARS);
const config = z.record(z.string(), z.unknown());

/** Body of `POST /spaces`. `null` prompts are treated as absent. */
export const createSpaceBody = z.object({
  label,
  systemPrompt: content.nullish(),
  consolidatePrompt: content.nullish(),
  integratePrompt: content.nullish(),
  config: config.optional(),
});

/** Body of `PATCH /spaces/:spaceId`: only these fields; `null` clears a prompt. */
export const updateSpaceBody = z.object({
  label: label.optional(),
  systemPrompt: content.nullable().optional(),
  consolidatePrompt: content.nullable().optional(),
  integratePrompt: content.nullable().optional(),
  config: config.optional(),
});

/** Turn input of REST `turn` and WS `session.message` / `session.stream`. */
export const turnInput = z.string().min(1, { error: 'must not be empty' }).max(INPUT_MAX_CHARS);

/** Body of `POST …/turn`. */
/** A client-chosen turn id (safe retries): a UUID. */
export const turnIdField = uuid;
/** What a turn does when its session runs another one. */
export const concurrencyField = z.enum(['enqueue', 'reject']);

export const turnBody = z.object({
  input: turnInput,
  turnId: turnIdField.optional(),
  concurrency: concurrencyField.optional(),
});

/** Fork options of REST `fork` and WS `session.fork`. */
export const forkOptions = z.object({
  label,
  scope: z.string().max(SCOPE_MAX_CHARS).nullish(),
  systemPrompt: content.optional(),
  context: z.enum(['none', 'inherit']).optional(),
});

/** Body of `PUT` on a session data route. */
export const contentBody = z.object({ content });

/** WS `session.enter` session id. */
export const sessionIdField = uuid;

const pageLimit = z
  .string()
  .regex(/^\d{1,9}$/, { error: 'must be a positive integer' })
  .transform(Number)
  .pipe(z.number().int().min(1).max(PAGE_MAX_LIMIT));
const cursor = z.string().min(1).max(512);

/** Query of `GET /spaces`. */
export const listSpacesQuery = z.object({ limit: pageLimit.optional(), after: cursor.optional() });

/** Most `tag` filters one `GET …/sessions` accepts. */
export const SESSION_FILTER_MAX_TAGS = 20;

/**
 * Query of `GET …/sessions` (`meta.<key>` filters are read apart, see `session-list-query.ts`).
 * `tag` may repeat: a session must carry every tag given.
 */
export const listSessionsQuery = z.object({
  view: z.enum(['flat', 'tree']).optional(),
  limit: pageLimit.optional(),
  after: cursor.optional(),
  status: z.enum(['active', 'archived']).optional(),
  tag: z.array(z.string().min(1).max(LABEL_MAX_CHARS)).max(SESSION_FILTER_MAX_TAGS).optional(),
  labelPrefix: z.string().min(1).max(LABEL_MAX_CHARS).optional(),
});

/** Query of `GET …/messages`: `after` pages forward, `before` backward; not both. */
export const messagesQuery = z
  .object({ limit: pageLimit.optional(), after: cursor.optional(), before: cursor.optional() })
  .refine((query) => query.after === undefined || query.before === undefined, {
    error: 'give `after` or `before`, not both',
    path: ['before'],
  });

/** One validation problem, as `details` lists them. */
export interface ValidationIssue {
  /** Dotted path of the field (`''` for the whole value). */
  path: string;
  /** What is wrong with it. */
  message: string;
}

/** Flattens zod issues into `{ path, message }` pairs for the error `details`. */
export function toValidationIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

function describe(issues: ValidationIssue[]): string {
  const first = issues[0];
  if (!first) return 'invalid value';
  return first.path ? `${first.path}: ${first.message}` : first.message;
}

/** Validates `value`, or throws `VALIDATION_ERROR` (400) naming the first problem. */
export function validate<TSchema extends z.ZodType>(
  schema: TSchema,
  value: unknown,
  what: string,
): z.output<TSchema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = toValidationIssues(result.error);
  throw new TransportError('VALIDATION_ERROR', `invalid ${what}: ${describe(issues)}`, { details: issues });
}

/** Reads the JSON body and validates it; throws `INVALID_JSON` or `VALIDATION_ERROR` (400). */
export async function readJsonBody<TSchema extends z.ZodType>(
  c: Context,
  schema: TSchema,
): Promise<z.output<TSchema>> {
  const text = decodeUtf8(await c.req.arrayBuffer());
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TransportError('INVALID_JSON', 'request body must be valid JSON');
  }
  assertWellFormedText(value);
  return validate(schema, value, 'request body');
}

/** Returns the path parameter `name` if it is a UUID, else throws `INVALID_ID` (400). */
export function uuidParam(c: Context, name: string): string {
  const value = c.req.param(name);
  if (!isUuid(value)) throw new TransportError('INVALID_ID', `invalid ${name}: expected a UUID`);
  return value;
}
