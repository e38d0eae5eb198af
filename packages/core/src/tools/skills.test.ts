import { describe, expect, it } from 'vitest';
import { ACTIVATE_SKILL_TOOL_NAME, createActivateSkillTool, SkillRouter } from './skills';
import { toToolSchema } from './tools';

const haiku = { name: 'haiku', description: 'write haiku', content: 'Answer in 5-7-5.' };
const sql = { name: 'sql', description: 'write SQL', content: 'Use PostgreSQL syntax.' };

describe('SkillRouter', () => {
  it('finds skills by name and lets a later one replace an earlier one', () => {
    const router = new SkillRouter([haiku, sql, { ...haiku, content: 'v2' }]);

    expect(router.get('haiku')?.content).toBe('v2');
    expect(router.get('missing')).toBeNull();
    expect(router.list().map((skill) => skill.name)).toEqual(['haiku', 'sql']);
    expect(router.size).toBe(2);
  });
});

describe('createActivateSkillTool', () => {
  it('returns the content of the named skill and lists the skills in its description', async () => {
    const activate = createActivateSkillTool(new SkillRouter([haiku, sql]));

    expect(activate.name).toBe(ACTIVATE_SKILL_TOOL_NAME);
    expect(activate.description).toContain('- haiku: write haiku');
    expect(activate.description).toContain('- sql: write SQL');
    expect(toToolSchema(activate).inputSchema).toMatchObject({ required: ['name'] });
    expect(await activate.execute({ name: 'sql' }, null as never)).toBe('Use PostgreSQL syntax.');
  });

  it('throws for an unknown skill, naming the valid ones', () => {
    const activate = createActivateSkillTool(new SkillRouter([haiku, sql]));

    expect(() => activate.execute({ name: 'poetry' }, null as never)).toThrow('available: haiku, sql');
  });
});
