import { z } from 'zod';
import type { Skill, SkillsInput, Tool, ToolsInput } from '../agent-types';
import type {
  LegacySkill,
  LegacySkillRouter,
  LegacyToolDefinition,
  LegacyToolRuntime,
} from './legacy-capability-types';

// The original 0.2.x took `capabilities.tools` as an `EngineToolRuntime` object and
// `capabilities.skills` as a `SkillRouter` object (skills with `guidancePrompt`, not `content`).
// Apps built on it pass those objects; these converters turn every accepted shape into the lists
// the agent runs on, so no shape the original accepted fails (it threw "skills is not iterable").

function isToolRuntime(value: object): value is LegacyToolRuntime {
  const candidate = value as Partial<LegacyToolRuntime>;
  return typeof candidate.getToolDefinitions === 'function' && typeof candidate.executeTool === 'function';
}

/** The arguments' schema from the original JSON Schema; any object when it cannot be converted. */
function schemaOf(parameters: Record<string, unknown> | undefined): z.ZodType {
  if (parameters && parameters.type === 'object') {
    try {
      return z.fromJSONSchema(parameters);
    } catch {
      // An exotic schema: the tool still runs; its own runtime validates the arguments.
    }
  }
  return z.looseObject({});
}

/** One original tool definition as our `Tool`; a `success: false` result becomes an error result. */
function fromToolRuntime(runtime: LegacyToolRuntime, definition: LegacyToolDefinition): Tool {
  return {
    name: definition.name,
    description: definition.description,
    inputSchema: schemaOf(definition.parameters),
    execute: async (input) => {
      const result = await runtime.executeTool(definition.name, input as Record<string, unknown>);
      if (!result.success) throw new Error(result.error ?? `tool "${definition.name}" failed`);
      return result.data ?? null;
    },
  };
}

/** The tools of any accepted shape, as a list. */
export function normalizeTools(tools: ToolsInput | undefined): Tool[] {
  if (tools === undefined || tools === null) return [];
  if (Array.isArray(tools)) return tools;
  if (isToolRuntime(tools)) return tools.getToolDefinitions().map((d) => fromToolRuntime(tools, d));
  return Object.values(tools);
}

/** One skill of either generation as ours: the original's `guidancePrompt` is its content. */
function toSkill(skill: Skill | LegacySkill): Skill {
  const content = skill.content ?? (skill as LegacySkill).guidancePrompt ?? '';
  return { name: skill.name, description: skill.description, content };
}

/** The skills of any accepted shape, as a list. */
export function normalizeSkills(skills: SkillsInput | undefined): Skill[] {
  if (skills === undefined || skills === null) return [];
  if (Array.isArray(skills)) return skills.map(toSkill);
  const router = skills as Partial<LegacySkillRouter>;
  if (typeof router.getAll === 'function') return router.getAll().map(toSkill);
  return Object.values(skills as Record<string, Skill | LegacySkill>).map(toSkill);
}
