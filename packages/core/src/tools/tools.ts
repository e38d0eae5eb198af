import type { ToolSchema } from '@stello-ai/session';
import { z } from 'zod';
import type { Tool, ToolExecutionContext } from '../agent-types';
import { CoreError } from '../errors';

/** The names providers accept for functions (OpenAI's rule, which Anthropic also satisfies). */
const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Defines a tool the model may call.
 *
 * `inputSchema` is a zod schema of a JSON object (or a raw shape, wrapped with `z.object`); the
 * arguments are validated against it before `execute` runs, and invalid ones go back to the
 * model as an error result. Whatever `execute` returns is given to the model (strings as is,
 * anything else as JSON); a thrown error becomes an error result, never a failed turn.
 *
 * @example
 * const weather = tool('get_weather', 'Current weather of a city', { city: z.string() },
 *   async ({ city }) => ({ city, celsius: 21 }));
 */
export function tool<TSchema extends z.ZodType>(
  name: string,
  description: string,
  inputSchema: TSchema,
  execute: (input: z.infer<TSchema>, context: ToolExecutionContext) => unknown,
): Tool<TSchema>;
export function tool<TShape extends z.ZodRawShape>(
  name: string,
  description: string,
  inputShape: TShape,
  execute: (input: z.infer<z.ZodObject<TShape>>, context: ToolExecutionContext) => unknown,
): Tool<z.ZodObject<TShape>>;
export function tool(
  name: string,
  description: string,
  schemaOrShape: z.ZodType | z.ZodRawShape,
  execute: (input: never, context: ToolExecutionContext) => unknown,
): Tool {
  const inputSchema = schemaOrShape instanceof z.ZodType ? schemaOrShape : z.object(schemaOrShape);
  const defined: Tool = { name, description, inputSchema, execute: execute as Tool['execute'] };
  toToolSchema(defined);
  return defined;
}

/**
 * Converts a tool to the JSON Schema form the model sees (`z.toJSONSchema`, input side).
 *
 * @throws CoreError `INVALID_TOOL` when the name is not a valid function name or the schema does
 *   not describe a JSON object.
 */
export function toToolSchema(definition: Tool): ToolSchema {
  if (!TOOL_NAME_PATTERN.test(definition.name)) {
    throw new CoreError('INVALID_TOOL', `tool name "${definition.name}" must match ${TOOL_NAME_PATTERN}`, {
      details: { toolName: definition.name },
    });
  }
  let schema: Record<string, unknown>;
  try {
    schema = z.toJSONSchema(definition.inputSchema, { io: 'input', unrepresentable: 'any' }) as Record<
      string,
      unknown
    >;
  } catch (cause) {
    throw new CoreError(
      'INVALID_TOOL',
      `tool "${definition.name}" has a schema that cannot be expressed in json schema`,
      {
        cause,
        details: { toolName: definition.name },
      },
    );
  }
  if (schema.type !== 'object') {
    throw new CoreError('INVALID_TOOL', `tool "${definition.name}" must take a json object as input`, {
      details: { toolName: definition.name },
    });
  }
  const { $schema: _ignored, ...inputSchema } = schema;
  return { name: definition.name, description: definition.description, inputSchema };
}

/**
 * The tools of one agent, by name, with their JSON Schemas computed once.
 *
 * @throws CoreError `DUPLICATE_TOOL` when two tools share a name, `INVALID_TOOL` (see {@link toToolSchema}).
 */
export class ToolRegistry {
  #tools = new Map<string, Tool>();
  #schemas: ToolSchema[] = [];

  constructor(tools: readonly Tool[] = []) {
    for (const definition of tools) {
      if (this.#tools.has(definition.name)) {
        throw new CoreError('DUPLICATE_TOOL', `tool "${definition.name}" is defined twice`, {
          details: { toolName: definition.name },
        });
      }
      this.#schemas.push(toToolSchema(definition));
      this.#tools.set(definition.name, definition);
    }
  }

  /** The tool named `name`, or `null`. */
  get(name: string): Tool | null {
    return this.#tools.get(name) ?? null;
  }

  /** Every tool, in registration order. */
  list(): Tool[] {
    return [...this.#tools.values()];
  }

  /** The JSON Schemas handed to the model, in registration order. */
  schemas(): ToolSchema[] {
    return this.#schemas;
  }

  /** Number of tools. */
  get size(): number {
    return this.#tools.size;
  }
}
