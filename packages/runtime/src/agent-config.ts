import type { StelloAgentConfig } from '@stello-ai/core';
import {
  type AgentBuildConfig,
  type AgentBuildContext,
  type AgentPoolOptions,
  DEFAULT_MIN_CONSOLIDATE_EVERY_N_TURNS,
} from './agent-pool-options';
import type { Logger } from './logger';
import { instrumentModel, withObservedHooks } from './observe-agent';
import { withSpaceEventHooks } from './space-events';
import type { HeldSpace } from './space-manager';
import { traceMemoryWork } from './telemetry/trace-memory-work';
import { traceModel } from './telemetry/trace-model';

/** The settings of a space's `config` that tune the agent's memory schedule. */
const SPACE_SCHEDULE_KEYS = [
  'consolidateEveryNTurns',
  'consolidateOnLeave',
  'integrateAfterConsolidate',
] as const;

type SessionConfig = NonNullable<StelloAgentConfig['session']>;
type OrchestrationConfig = NonNullable<StelloAgentConfig['orchestration']>;

/** The memory-schedule settings of a space's config that have a valid value. */
function scheduleFromSpace(config: Record<string, unknown>, minEvery: number): OrchestrationConfig {
  const schedule: OrchestrationConfig = {};
  const every = config.consolidateEveryNTurns;
  if (typeof every === 'number' && Number.isInteger(every) && every >= 0) {
    schedule.consolidateEveryNTurns = every === 0 ? 0 : Math.max(every, minEvery);
  }
  if (typeof config.consolidateOnLeave === 'boolean') schedule.consolidateOnLeave = config.consolidateOnLeave;
  if (typeof config.integrateAfterConsolidate === 'boolean') {
    schedule.integrateAfterConsolidate = config.integrateAfterConsolidate;
  }
  return schedule;
}

/**
 * The full agent config of a space: `built` plus what the pool provides (`sessions`, `memory`,
 * `storage`, the model, traced and timed when asked, memory work traced when asked) and the defaults it fills from the space (live
 * prompt getters, concurrency, the memory schedule, the event and observation hooks).
 */
export function completeAgentConfig(
  ctx: AgentBuildContext,
  held: HeldSpace,
  built: AgentBuildConfig,
  options: AgentPoolOptions,
  logger: Logger,
): StelloAgentConfig {
  const config: StelloAgentConfig = { ...built, sessions: ctx.sessionTree, memory: ctx.memoryEngine };
  if (config.storage === undefined) config.storage = ctx.mainStorage;
  if (config.llm === undefined && options.model) config.llm = options.model;
  if (config.llm && options.tracer) config.llm = traceModel(config.llm, options.tracer);
  // Timed for the logs and the metrics (LLM time, first delta, tokens) when asked.
  if (config.llm && options.observeModel) config.llm = instrumentModel(config.llm, logger);

  const session: SessionConfig = { ...built.session };
  if (session.llmCall === undefined && options.llm) session.llmCall = options.llm;
  // Getters, read by the agent at each consolidation/integration: a PATCHed space prompt applies
  // to the next one without rebuilding the agent.
  if (session.consolidatePrompt === undefined) {
    Object.defineProperty(session, 'consolidatePrompt', {
      enumerable: true,
      configurable: true,
      get: () => held.space.consolidatePrompt ?? undefined,
    });
  }
  if (session.integratePrompt === undefined) {
    Object.defineProperty(session, 'integratePrompt', {
      enumerable: true,
      configurable: true,
      get: () => held.space.integratePrompt ?? undefined,
    });
  }
  config.session = session;

  const orchestration: OrchestrationConfig = { ...built.orchestration };
  const concurrency = (ctx.space.config as Record<string, unknown> | null | undefined)?.concurrency;
  if (orchestration.concurrency === undefined && (concurrency === 'enqueue' || concurrency === 'reject')) {
    orchestration.concurrency = concurrency;
  }
  const schedule = scheduleFromSpace(
    ctx.space.config,
    options.minConsolidateEveryNTurns ?? DEFAULT_MIN_CONSOLIDATE_EVERY_N_TURNS,
  );
  for (const key of SPACE_SCHEDULE_KEYS) {
    if (orchestration[key] === undefined && schedule[key] !== undefined) {
      (orchestration as Record<string, unknown>)[key] = schedule[key];
    }
  }
  const publish = options.publishEvent;
  if (publish) orchestration.hooks = withSpaceEventHooks(orchestration.hooks, ctx.space.id, publish);
  orchestration.hooks = withObservedHooks(orchestration.hooks, ctx.space.id, logger);
  if (options.tracer) {
    orchestration.aroundMemoryWork = traceMemoryWork(
      options.tracer,
      ctx.space.id,
      orchestration.aroundMemoryWork,
    );
  }
  config.orchestration = orchestration;
  return config;
}
