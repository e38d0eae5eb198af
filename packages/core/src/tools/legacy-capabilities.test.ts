import { callTool, createScriptedLLM, lastMessage } from '@internal/testing/scripted-llm';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStelloAgent } from '../agent/stello-agent';
import { createInMemoryStores } from '../in-memory';
import { normalizeSkills, normalizeTools } from './legacy-capabilities';
import type { LegacySkillRouter, LegacyToolRuntime } from './legacy-capability-types';
import { tool } from './tools';

/** The original 0.2.x `EngineToolRuntime` an app built on it passes as `capabilities.tools`. */
function originalToolRuntime(calls: [string, Record<string, unknown>][]): LegacyToolRuntime {
  return {
    getToolDefinitions: () => [
      {
        name: 'weather',
        description: 'weather of a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
      { name: 'broken', description: 'always fails', parameters: { type: 'object', properties: {} } },
    ],
    executeTool: async (name, args) => {
      calls.push([name, args]);
      return name === 'weather'
        ? { success: true, data: { sky: 'clear', city: args.city } }
        : { success: false, error: 'the sensor is down' };
    },
  };
}

/** The original 0.2.x `SkillRouter` (skills with keywords and a guidance prompt). */
const originalSkillRouter: LegacySkillRouter = {
  getAll: () => [
    {
      name: 'haiku',
      description: 'answers in haiku',
      keywords: ['poem'],
      guidancePrompt: 'Answer in 5-7-5.',
      handler: async () => ({}),
    },
  ],
};

describe('capabilities in the original 0.2.x shapes', () => {
  it('turns the original tool runtime into tools whose JSON Schema the model sees', () => {
    const tools = normalizeTools(originalToolRuntime([]));
    expect(tools.map((t) => t.name)).toEqual(['weather', 'broken']);
    expect(tools[0]!.inputSchema.safeParse({ city: 'Oslo' }).success).toBe(true);
    expect(tools[0]!.inputSchema.safeParse({ city: 3 }).success).toBe(false);
  });

  it('accepts a list, a map by name, and nothing', () => {
    const echo = tool('echo', 'echo', { text: z.string() }, ({ text }) => text);
    expect(normalizeTools([echo])).toEqual([echo]);
    expect(normalizeTools({ echo })).toEqual([echo]);
    expect(normalizeTools(undefined)).toEqual([]);
    const skill = { name: 's', description: 'd', content: 'c' };
    expect(normalizeSkills([skill])).toEqual([skill]);
    expect(normalizeSkills({ s: skill })).toEqual([skill]);
    expect(normalizeSkills([{ name: 'old', description: 'd', guidancePrompt: 'g' }])).toEqual([
      { name: 'old', description: 'd', content: 'g' },
    ]);
    expect(normalizeSkills(undefined)).toEqual([]);
  });

  it('builds an agent from them and runs a turn through the original tool runtime', async () => {
    const calls: [string, Record<string, unknown>][] = [];
    const stores = createInMemoryStores();
    const llm = createScriptedLLM((call) =>
      lastMessage(call).role === 'user'
        ? {
            content: null,
            toolCalls: [callTool('w', 'weather', { city: 'Oslo' }), callTool('b', 'broken', {})],
          }
        : { content: 'clear over Oslo' },
    );
    const agent = createStelloAgent({
      ...stores,
      llm,
      capabilities: { tools: originalToolRuntime(calls), skills: originalSkillRouter },
    });
    expect(agent.skills.get('haiku')).toEqual({
      name: 'haiku',
      description: 'answers in haiku',
      content: 'Answer in 5-7-5.',
    });
    expect(agent.tools.list().map((t) => t.name)).toEqual(['weather', 'broken', 'activate_skill']);
    const root = await agent.createRoot('Space');
    const { turn } = await agent.turn(root.id, 'weather?');
    expect(turn.finalContent).toBe('clear over Oslo');
    expect(calls).toEqual([
      ['weather', { city: 'Oslo' }],
      ['broken', {}],
    ]);
    const tools = (await stores.storage.listRecords(root.id)).filter((r) => r.role === 'tool');
    expect(tools.map((r) => r.content)).toEqual([
      JSON.stringify({ sky: 'clear', city: 'Oslo' }),
      JSON.stringify({ error: 'the sensor is down' }),
    ]);
  });
});
