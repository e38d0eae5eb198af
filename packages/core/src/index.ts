/**
 * @module @stello-ai/core
 * StelloAgent: the session tree, the turn engine with tools, forks, and scheduled
 * consolidation and integration.
 */
export type {
  AssembledContext,
  BootstrapResult,
  CreateChildOptions,
  EngineStreamResult,
  EngineTurnResult,
  MemoryEngine,
  SessionInfo,
  SessionMeta,
  SessionMetaPatch,
  SessionTree,
  SessionTreeNode,
  TopologyNode,
  TurnRecord,
} from './types';

// In-memory backend (tests, examples)
export { InMemoryMemoryEngine, InMemorySessionTree, createInMemoryStores } from './in-memory';
export type { InMemoryStores } from './in-memory';

// Agent: turns, tools, skills, forks and memory work
export type {
  ConfirmProtocol,
  EngineForkOptions,
  EngineHooks,
  EngineLifecycleAdapter,
  ForkProfile,
  Skill,
  SplitProposal,
  StelloAgentConfig,
  Tool,
  ToolExecutionContext,
  TurnOptions,
  UpdateProposal,
} from './agent-types';
export {
  DEFAULT_CONSOLIDATE_PROMPT,
  DEFAULT_INTEGRATE_PROMPT,
  DEFAULT_TRANSCRIPT_BUDGET_CHARS,
  createDefaultConsolidateFn,
  createDefaultIntegrateFn,
  stripThinking,
} from './defaults';
export { CoreError } from './errors';
export type { CoreErrorCode } from './errors';
export type { AgentErrorEvent, AgentErrorListener } from './hooks';
export { DEFAULT_CONSOLIDATE_EVERY_N_TURNS, MemoryScheduler } from './scheduler';
export type { MemorySchedulerOptions } from './scheduler';
export { SerialQueue } from './serial-queue';
export { ACTIVATE_SKILL_TOOL_NAME, SkillRouter, createActivateSkillTool } from './skills';
export { StelloAgent, createStelloAgent } from './stello-agent';
export type { StelloAgentEventMap } from './stello-agent';
export { ToolRegistry, tool, toToolSchema } from './tools';
export { DEFAULT_MAX_TOOL_ROUNDS, runTurn } from './turn-runner';
export type { RunTurnOptions, RunTurnResult, TurnObservers } from './turn-runner';
