import { DEFAULT_BUDGET_RATIO, DEFAULT_MAX_HISTORY_RECORDS } from '../context/context';
import { SessionError } from '../errors';
import type { LLMAdapter, ToolSchema } from '../llm/llm';
import type { ContextOptions } from './session-types';

/** What every session object carries besides its storage and meta. */
export interface SessionRuntimeOptions {
  llm?: LLMAdapter;
  tools?: ToolSchema[];
  context?: ContextOptions;
}

export function invalid(message: string, details?: Record<string, unknown>): SessionError {
  return new SessionError('INVALID_ARGUMENT', message, details ? { details } : undefined);
}

export function checkLabel(label: unknown): asserts label is string {
  if (typeof label !== 'string' || label.trim().length === 0)
    throw invalid('label must be a non-empty string');
}

/** Validates `ContextOptions` and fills the defaults. */
export function resolveContextOptions(options: ContextOptions = {}): Required<ContextOptions> {
  const budgetRatio = options.budgetRatio ?? DEFAULT_BUDGET_RATIO;
  const maxHistoryRecords = options.maxHistoryRecords ?? DEFAULT_MAX_HISTORY_RECORDS;
  if (!(budgetRatio > 0 && budgetRatio <= 1))
    throw invalid('context.budgetRatio must be in (0, 1]', { budgetRatio });
  if (!Number.isInteger(maxHistoryRecords) || maxHistoryRecords < 1) {
    throw invalid('context.maxHistoryRecords must be a positive integer', { maxHistoryRecords });
  }
  return { budgetRatio, maxHistoryRecords };
}

/** Picks the runtime options (model, tools, context budget) out of create/load options. */
export function runtimeOf(options: {
  llm?: LLMAdapter;
  tools?: ToolSchema[];
  context?: ContextOptions;
}): SessionRuntimeOptions {
  const runtime: SessionRuntimeOptions = {};
  if (options.llm) runtime.llm = options.llm;
  if (options.tools) runtime.tools = options.tools;
  if (options.context) runtime.context = options.context;
  return runtime;
}
