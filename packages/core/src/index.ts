/**
 * @module @stello-ai/core
 * StelloAgent: the session tree, the turn engine with tools, forks, and scheduled
 * consolidation and integration.
 */

export type { StelloAgentEventMap } from './agent/stello-agent';
export { createStelloAgent, StelloAgent } from './agent/stello-agent';
// Agent: turns, tools, skills, forks and memory work
export type {
  AroundMemoryWork,
  ConfirmProtocol,
  EngineForkOptions,
  EngineHooks,
  EngineLifecycleAdapter,
  ForkProfile,
  MemoryWorkRun,
  Skill,
  SkillsInput,
  SplitProposal,
  StelloAgentConfig,
  Tool,
  ToolAgent,
  ToolExecutionContext,
  ToolsInput,
  TurnOptions,
  UpdateProposal,
} from './agent-types';
export type { CoreErrorCode } from './errors';
export { CoreError } from './errors';
export type { AgentErrorEvent, AgentErrorListener } from './hooks';
export type { InMemoryStores } from './in-memory';
// In-memory backend (tests, examples)
export { createInMemoryStores, InMemoryMemoryEngine, InMemorySessionTree } from './in-memory';
export {
  createDefaultConsolidateFn,
  createDefaultIntegrateFn,
  DEFAULT_CONSOLIDATE_PROMPT,
  DEFAULT_INTEGRATE_PROMPT,
  DEFAULT_INTEGRATION_BUDGET_CHARS,
  DEFAULT_INTEGRATION_CHILD_CHARS,
  DEFAULT_MEMORY_MAX_CHARS,
  DEFAULT_SYNTHESIS_MAX_CHARS,
  DEFAULT_TRANSCRIPT_BUDGET_CHARS,
  stripThinking,
} from './memory/defaults';
export type { MemorySchedulerOptions } from './memory/scheduler';
export { DEFAULT_CONSOLIDATE_EVERY_N_TURNS, MemoryScheduler } from './memory/scheduler';
export type { SessionCursorKey } from './sessions/session-list';
export {
  compareSessionKeys,
  decodeSessionCursor,
  encodeSessionCursor,
  listSessionPage,
  pageSessionInfos,
} from './sessions/session-list';
export { DEFAULT_RUNTIME_IDLE_TTL_MS } from './sessions/session-objects';
export { normalizeSkills, normalizeTools } from './tools/legacy-capabilities';
export type {
  LegacySkill,
  LegacySkillRouter,
  LegacyToolDefinition,
  LegacyToolExecutionResult,
  LegacyToolRuntime,
} from './tools/legacy-capability-types';
export { ACTIVATE_SKILL_TOOL_NAME, createActivateSkillTool, SkillRouter } from './tools/skills';
export { ToolRegistry, tool, toToolSchema } from './tools/tools';
export { DEFAULT_MAX_QUEUED_TURNS } from './turns/agent-turns';
export { SerialQueue } from './turns/serial-queue';
export type { TurnLeaseSettings } from './turns/turn-lease';
export { DEFAULT_TURN_LEASE_TTL_MS, DEFAULT_TURN_LEASE_WAIT_MS } from './turns/turn-lease';
export type { TurnConcurrency, TurnInfo, TurnProgressEvent, TurnStatus } from './turns/turn-ledger';
export { requestHash } from './turns/turn-ledger';
export type { RunTurnOptions, RunTurnResult, TurnObservers } from './turns/turn-runner';
export { DEFAULT_MAX_TOOL_ROUNDS, FinishedTurn, runTurn } from './turns/turn-runner';
export type {
  AssembledContext,
  BootstrapResult,
  CreateChildOptions,
  EngineStreamResult,
  EngineTurnResult,
  MemoryEngine,
  SessionInfo,
  SessionListFilter,
  SessionListOptions,
  SessionListPage,
  SessionMeta,
  SessionMetadataValue,
  SessionMetaPatch,
  SessionTree,
  SessionTreeNode,
  TopologyNode,
  TurnRecord,
} from './types';
