import { estimateTokenCounter, type TokenCounter } from '../tokens/token-counter';
import type { Message, SessionRole } from '../types';

/** Share of the model's context window a prompt may fill when no ratio is configured. */
export const DEFAULT_BUDGET_RATIO = 0.8;
/**
 * Records read for the history window of a turn when no limit is configured: about 100 exchanges.
 * Older history reaches the prompt through the session's L2 memory, so the window bounds a turn's
 * cost (and the model's bill) without forgetting.
 */
export const DEFAULT_MAX_HISTORY_RECORDS = 200;

/** Fixed per-message overhead of the token estimate (role, separators). */
const MESSAGE_OVERHEAD_TOKENS = 4;

const INSIGHT_PREFIX =
  'Insight from the main session, which oversees every branch of this conversation (use it if relevant):';
const SYNTHESIS_PREFIX =
  'Synthesis of every branch of this conversation, maintained by you as the main session:';
const MEMORY_PREFIX = 'Summary of the earlier part of this session (older messages are not shown):';

/**
 * Counts the tokens of one message with `counter` (the script-aware estimate by default): its
 * content, serialized tool calls and tool-call id, plus 4 for the role and separators.
 */
export function estimateMessageTokens(
  message: Message,
  counter: TokenCounter = estimateTokenCounter,
): number {
  let tokens = counter.count(message.content) + MESSAGE_OVERHEAD_TOKENS;
  if (message.toolCalls && message.toolCalls.length > 0)
    tokens += counter.count(JSON.stringify(message.toolCalls));
  if (message.toolCallId) tokens += counter.count(message.toolCallId);
  return tokens;
}

/** Counts the tokens of a list of messages: the sum of `estimateMessageTokens`. */
export function estimateTokens(
  messages: readonly Message[],
  counter: TokenCounter = estimateTokenCounter,
): number {
  let total = 0;
  for (const message of messages) total += estimateMessageTokens(message, counter);
  return total;
}

/**
 * Splits records into units that must stay together in a prompt: an assistant message with tool
 * calls plus the tool messages right after it form one unit; every other message is its own unit.
 * Orphans (tool messages that answer no call of the unit they follow) become single-message units
 * marked incomplete, so callers can drop them.
 */
export function groupToolCalls(records: readonly Message[]): { messages: Message[]; complete: boolean }[] {
  const units: { messages: Message[]; complete: boolean }[] = [];
  let i = 0;
  while (i < records.length) {
    const message = records[i]!;
    i += 1;
    if (message.role === 'assistant' && message.toolCalls && message.toolCalls.length > 0) {
      const callIds = new Set(message.toolCalls.map((call) => call.id));
      const answered = new Set<string>();
      const messages: Message[] = [message];
      const orphans: Message[] = [];
      while (i < records.length && records[i]!.role === 'tool') {
        const tool = records[i]!;
        i += 1;
        if (tool.toolCallId !== undefined && callIds.has(tool.toolCallId) && !answered.has(tool.toolCallId)) {
          answered.add(tool.toolCallId);
          messages.push(tool);
        } else {
          orphans.push(tool);
        }
      }
      units.push({ messages, complete: answered.size === callIds.size });
      for (const orphan of orphans) units.push({ messages: [orphan], complete: false });
    } else if (message.role === 'tool') {
      units.push({ messages: [message], complete: false });
    } else {
      units.push({ messages: [message], complete: true });
    }
  }
  return units;
}

/**
 * Removes what a provider would reject: assistant tool calls without all their results (the whole
 * group goes) and tool messages whose call is not right before them.
 */
export function removeIncompleteToolCallGroups(records: readonly Message[]): Message[] {
  return groupToolCalls(records)
    .filter((unit) => unit.complete)
    .flatMap((unit) => unit.messages);
}

/**
 * Returns the newest suffix of `records` whose estimate fits in `budgetTokens`, starting at a unit
 * boundary (a tool-call group is kept whole or left out). Expects records without orphans.
 */
export function selectHistoryByBudget(
  records: readonly Message[],
  budgetTokens: number,
  counter: TokenCounter = estimateTokenCounter,
): Message[] {
  const units = groupToolCalls(records);
  let used = 0;
  let start = units.length;
  while (start > 0) {
    const cost = estimateTokens(units[start - 1]!.messages, counter);
    if (used + cost > budgetTokens) break;
    used += cost;
    start -= 1;
  }
  return units.slice(start).flatMap((unit) => unit.messages);
}

// The script-aware estimate undercounts a real tokenizer by at most this share (see its tests).
const ESTIMATE_MAX_UNDERCOUNT = 0.1;

/**
 * A bound of `history`'s tokens for a real tokenizer's `counter` when the script-aware estimate
 * proves the whole history fits `budget`, else `null`. A real tokenizer costs about a millisecond per paragraph of Chinese, so counting a window of new
 * records (a session this process has not seen yet) exactly would cost a turn hundreds of
 * milliseconds; the cheap estimate settles the common case.
 */
function quickFit(history: readonly Message[], budget: number, counter: TokenCounter): number | null {
  // An estimating counter is as cheap as the estimate: it counts for itself.
  if (counter.name === 'estimate') return null;
  const bound = Math.ceil(estimateTokens(history) / (1 - ESTIMATE_MAX_UNDERCOUNT));
  return bound <= budget ? bound : null;
}

/** The line that tells a child session's model where it is. */
export function identityLine(label: string): string {
  return `You are in the session "${label}", a branch of a larger conversation tree.`;
}

/** Input of `assembleTurnPrompt`: the stored material of a turn plus what the turn added so far. */
export interface TurnPromptInput {
  /** `main` gets its synthesis and no identity line, insight or L2; `standard` gets all three. */
  role: SessionRole;
  label: string;
  systemPrompt: string | null;
  insight: string | null;
  /** L2 for a standard session, the synthesis for the main session. */
  memory: string | null;
  /** The history window, oldest first. */
  records: readonly Message[];
  /** True when older records exist beyond `records` (the window was cut by its size limit). */
  hasOlderRecords: boolean;
  /** The new user message. */
  user: Message;
  /** Records of this turn after the user message (assistant tool calls, tool results). */
  pending: readonly Message[];
  maxContextTokens: number;
  /** Share of `maxContextTokens` the prompt may fill (default 0.8). */
  budgetRatio?: number;
  /** Counts tokens for the model at hand (default: the script-aware estimate). */
  counter?: TokenCounter;
  /** Output tokens the call asks for: the prompt never takes the room they need in the window. */
  maxOutputTokens?: number;
  /** Upper bound of the history's tokens, below the budget (a retry after an overflow sets it). */
  historyTokenCap?: number;
}

/** An assembled prompt and what it contains. */
export interface TurnPrompt {
  messages: Message[];
  /** The insight text shown to the model, or `null` when none was shown. */
  insightShown: string | null;
  /** True when the L2 memory was included. */
  memoryShown: boolean;
  /** How many history records the prompt carries. */
  historyCount: number;
  /** True when history was left out (by budget or beyond the read window). */
  trimmed: boolean;
  /** Tokens the history could use after everything else was counted. */
  historyBudget: number;
  /** Tokens of the history the prompt carries. */
  historyTokens: number;
}

function hasText(value: string | null | undefined): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}

function system(content: string): Message {
  return { role: 'system', content };
}

/**
 * Builds the prompt of a turn, in this order: system prompt → identity line (standard) → insight
 * (standard) or synthesis (main) → L2 memory when history was trimmed (standard) → the newest
 * history that fits the budget, never splitting a tool-call group → the user message → the
 * turn's pending records. Pure: it reads nothing and writes nothing.
 *
 * The budget is `floor(budgetRatio × maxContextTokens)`, at most the window minus `maxOutputTokens`
 * (reserving at most half the window), minus the count of everything that is not history; the
 * history gets what remains (never less than zero).
 */
export function assembleTurnPrompt(input: TurnPromptInput): TurnPrompt {
  const ratio = input.budgetRatio ?? DEFAULT_BUDGET_RATIO;
  const isMain = input.role === 'main';
  const prefix: Message[] = [];
  if (hasText(input.systemPrompt)) prefix.push(system(input.systemPrompt));
  if (!isMain) prefix.push(system(identityLine(input.label)));
  let insightShown: string | null = null;
  if (isMain) {
    if (hasText(input.memory)) prefix.push(system(`${SYNTHESIS_PREFIX}\n${input.memory}`));
  } else if (hasText(input.insight)) {
    prefix.push(system(`${INSIGHT_PREFIX}\n${input.insight}`));
    insightShown = input.insight;
  }

  const counter = input.counter ?? estimateTokenCounter;
  const tail: Message[] = [input.user, ...input.pending];
  let total = Math.floor(ratio * input.maxContextTokens);
  if (input.maxOutputTokens !== undefined) {
    // An output cap configured above the window must not starve the prompt: reserve at most half.
    const reserved = Math.min(input.maxOutputTokens, Math.floor(input.maxContextTokens / 2));
    total = Math.min(total, input.maxContextTokens - reserved);
  }
  let historyBudget = Math.max(0, total - estimateTokens(prefix, counter) - estimateTokens(tail, counter));
  if (input.historyTokenCap !== undefined)
    historyBudget = Math.min(historyBudget, Math.max(0, input.historyTokenCap));
  const history = removeIncompleteToolCallGroups(input.records);

  let memoryShown = false;
  let selected: Message[] = history;
  let trimmed = false;
  // Exact counts stop at the budget: the newest records that fit are counted, the rest are not.
  const quick = input.hasOlderRecords ? null : quickFit(history, historyBudget, counter);
  const fits =
    quick !== null ||
    (!input.hasOlderRecords &&
      selectHistoryByBudget(history, historyBudget, counter).length === history.length);
  if (!fits) {
    trimmed = true;
    let budget = historyBudget;
    if (!isMain && hasText(input.memory)) {
      const memoryMessage = system(`${MEMORY_PREFIX}\n${input.memory}`);
      prefix.push(memoryMessage);
      memoryShown = true;
      budget = Math.max(0, budget - estimateMessageTokens(memoryMessage, counter));
    }
    selected = selectHistoryByBudget(history, budget, counter);
  }
  const historyTokens = quick ?? estimateTokens(selected, counter);

  return {
    messages: [...prefix, ...selected, ...tail],
    insightShown,
    memoryShown,
    historyCount: selected.length,
    trimmed,
    historyBudget,
    historyTokens,
  };
}
