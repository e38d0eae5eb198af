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
