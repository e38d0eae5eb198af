/**
 * @module @stello-ai/core
 * StelloAgent: the session tree, the turn engine with tools, forks, and scheduled
 * consolidation and integration.
 */

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
  ToolAgent,
  ToolExecutionContext,
  TurnOptions,
  UpdateProposal,
} from './agent-types';
export {
  createDefaultConsolidateFn,
  createDefaultIntegrateFn,
  DEFAULT_CONSOLIDATE_PROMPT,
  DEFAULT_INTEGRATE_PROMPT,
  DEFAULT_TRANSCRIPT_BUDGET_CHARS,
  stripThinking,
} from './defaults';
export type { CoreErrorCode } from './errors';
export { CoreError } from './errors';
export type { AgentErrorEvent, AgentErrorListener } from './hooks';
export type { InMemoryStores } from './in-memory';
// In-memory backend (tests, examples)
export { createInMemoryStores, InMemoryMemoryEngine, InMemorySessionTree } from './in-memory';
export type { MemorySchedulerOptions } from './scheduler';
export { DEFAULT_CONSOLIDATE_EVERY_N_TURNS, MemoryScheduler } from './scheduler';
export { SerialQueue } from './serial-queue';
export type { SessionCursorKey } from './session-list';
export {
  compareSessionKeys,
  decodeSessionCursor,
  encodeSessionCursor,
  listSessionPage,
  pageSessionInfos,
} from './session-list';
export { ACTIVATE_SKILL_TOOL_NAME, createActivateSkillTool, SkillRouter } from './skills';
export type { StelloAgentEventMap } from './stello-agent';
export {
  createStelloAgent,
  DEFAULT_MAX_QUEUED_TURNS,
  DEFAULT_RUNTIME_IDLE_TTL_MS,
  StelloAgent,
} from './stello-agent';
export { ToolRegistry, tool, toToolSchema } from './tools';
export type { TurnLeaseSettings } from './turn-lease';
export { DEFAULT_TURN_LEASE_TTL_MS, DEFAULT_TURN_LEASE_WAIT_MS } from './turn-lease';
export type { TurnConcurrency, TurnInfo, TurnProgressEvent, TurnStatus } from './turn-ledger';
export { requestHash } from './turn-ledger';
export type { RunTurnOptions, RunTurnResult, TurnObservers } from './turn-runner';
export { DEFAULT_MAX_TOOL_ROUNDS, FinishedTurn, runTurn } from './turn-runner';
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
