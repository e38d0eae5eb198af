import { z } from 'zod';
import type { Skill, Tool } from '../agent-types';
import { CoreError } from '../errors';

/** Name of the built-in tool that hands a skill's content to the model. */
export const ACTIVATE_SKILL_TOOL_NAME = 'activate_skill';

/**
 * The skills of one agent, by name. A later skill with the same name replaces the earlier one.
 */
export class SkillRouter {
  #skills = new Map<string, Skill>();

  constructor(skills: readonly Skill[] = []) {
    for (const skill of skills) this.register(skill);
  }

  /** Adds (or replaces) a skill. */
  register(skill: Skill): void {
    this.#skills.set(skill.name, skill);
  }

  /** The skill named `name`, or `null`. */
  get(name: string): Skill | null {
    return this.#skills.get(name) ?? null;
  }

  /** Every skill, in registration order. */
  list(): Skill[] {
    return [...this.#skills.values()];
  }

  /** Number of skills. */
  get size(): number {
    return this.#skills.size;
  }
}

const ACTIVATE_SKILL_INPUT = z.object({
  name: z.string().min(1).describe('The name of the skill to activate'),
});

/**
 * Builds the `activate_skill` tool: the model names a skill and receives its content (the
 * instructions to follow from then on). Its description lists the skills, so the model knows
 * what it can activate. An unknown name is an error result that lists the valid ones.
 */
export function createActivateSkillTool(router: SkillRouter): Tool<typeof ACTIVATE_SKILL_INPUT> {
  const catalogue = router
    .list()
    .map((skill) => `- ${skill.name}: ${skill.description}`)
    .join('\n');
  return {
    name: ACTIVATE_SKILL_TOOL_NAME,
    description: `Activate a skill to receive its instructions. Available skills:\n${catalogue}`,
    inputSchema: ACTIVATE_SKILL_INPUT,
    execute: ({ name }) => {
      const skill = router.get(name);
      if (!skill) {
        const known = router
          .list()
          .map((entry) => entry.name)
          .join(', ');
        throw new CoreError('INVALID_OPERATION', `unknown skill "${name}"; available: ${known}`);
      }
      return skill.content;
    },
  };
}
