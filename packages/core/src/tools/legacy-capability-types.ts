// The shapes the original 0.2.x took for `capabilities.tools` and `capabilities.skills`; types
// only, apart from the agent's own types so `agent-types` can name them without a circle.

/** A tool as the original `EngineToolRuntime.getToolDefinitions()` lists it. */
export interface LegacyToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the arguments. */
  parameters?: Record<string, unknown>;
}

/** The original `ToolExecutionResult`. */
export interface LegacyToolExecutionResult {
  success: boolean;
  data?: unknown;
  error?: string | null;
}

/** The original 0.2.x `EngineToolRuntime`. */
export interface LegacyToolRuntime {
  getToolDefinitions(): LegacyToolDefinition[];
  executeTool(name: string, args: Record<string, unknown>): Promise<LegacyToolExecutionResult>;
}

/** A skill as the original 0.2.x registered it (`guidancePrompt`, matched by `keywords`). */
export interface LegacySkill {
  name: string;
  description: string;
  keywords?: string[];
  guidancePrompt?: string;
  content?: string;
  handler?: unknown;
}

/** The original 0.2.x `SkillRouter` (anything with `getAll()`). */
export interface LegacySkillRouter {
  getAll(): LegacySkill[];
}
