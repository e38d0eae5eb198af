import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ToolRegistry, tool, toToolSchema } from './tools';

describe('tool', () => {
  it('wraps a raw shape in an object schema and infers the input type', async () => {
    const add = tool(
      'add',
      'adds two numbers',
      { a: z.number(), b: z.number().describe('second') },
      ({ a, b }) => a + b,
    );

    expect(add.inputSchema.parse({ a: 1, b: 2 })).toEqual({ a: 1, b: 2 });
    expect(await add.execute({ a: 1, b: 2 }, null as never)).toBe(3);
    expect(toToolSchema(add)).toEqual({
      name: 'add',
      description: 'adds two numbers',
      inputSchema: {
        type: 'object',
        properties: { a: { type: 'number' }, b: { type: 'number', description: 'second' } },
        required: ['a', 'b'],
      },
    });
  });

  it('accepts a zod object schema as it is', () => {
    const schema = z.object({ city: z.string() }).strict();
    const weather = tool('weather', 'weather', schema, ({ city }) => city);

    expect(weather.inputSchema).toBe(schema);
    expect(toToolSchema(weather).inputSchema).toMatchObject({ additionalProperties: false });
  });

  it('rejects names providers refuse and schemas that are not objects', () => {
    expect(() => tool('bad name', 'x', {}, () => 1)).toThrow(
      expect.objectContaining({ code: 'INVALID_TOOL' }),
    );
    expect(() => tool('x'.repeat(65), 'x', {}, () => 1)).toThrow(
      expect.objectContaining({ code: 'INVALID_TOOL' }),
    );
    expect(() => tool('text', 'x', z.string(), () => 1)).toThrow(
      expect.objectContaining({ code: 'INVALID_TOOL' }),
    );
  });
});

describe('ToolRegistry', () => {
  it('looks tools up by name and lists their schemas in order', () => {
    const a = tool('a', 'first', {}, () => 1);
    const b = tool('b', 'second', {}, () => 2);
    const registry = new ToolRegistry([a, b]);

    expect(registry.get('b')).toBe(b);
    expect(registry.get('c')).toBeNull();
    expect(registry.list()).toEqual([a, b]);
    expect(registry.schemas().map((schema) => schema.name)).toEqual(['a', 'b']);
    expect(registry.size).toBe(2);
  });

  it('refuses two tools with one name', () => {
    const a = tool('a', 'first', {}, () => 1);

    expect(() => new ToolRegistry([a, { ...a }])).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_TOOL' }),
    );
  });
});
