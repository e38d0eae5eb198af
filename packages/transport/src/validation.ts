import type { ValidationIssue } from '@stello-ai/protocol';
import { isUuid } from '@stello-ai/runtime';
import type { Context } from 'hono';
import type { z } from 'zod';
import { TransportError } from './errors';
import { assertWellFormedText, decodeUtf8 } from './well-formed-text';

// The request schemas live in @stello-ai/protocol (clients and the OpenAPI document use the same
// objects); they are re-exported here under their old names.
export {
  CONTENT_MAX_CHARS,
  concurrencyField,
  contentBody,
  createSpaceBody,
  forkOptions,
  INPUT_MAX_CHARS,
  LABEL_MAX_CHARS,
  listSessionsQuery,
  listSpacesQuery,
  messagesQuery,
  PAGE_MAX_LIMIT,
  SCOPE_MAX_CHARS,
  SESSION_FILTER_MAX_TAGS,
  sessionIdField,
  turnBody,
  turnIdField,
  turnInput,
  updateSpaceBody,
} from '@stello-ai/protocol';

/** One validation problem, as `details` lists them. */
export type { ValidationIssue };

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
