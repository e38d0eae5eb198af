import type {
  LLMResult,
  Session,
  StoredTurn,
  ToolCall,
  ToolResultInput,
  TurnCommitResult,
  TurnDraft,
} from '@stello-ai/session';
import { z } from 'zod';
import { guard, throwIfAborted } from '../abort';
import type { Tool, ToolExecutionContext } from '../agent-types';
import type { ToolRegistry } from '../tools/tools';
import type { EngineTurnResult } from '../types';
import { SerialQueue } from './serial-queue';
import {
  beginLeasedTurn,
  keepLeaseAlive,
  type LeaseKeeper,
  releaseDraft,
  type TurnLeaseSettings,
} from './turn-lease';

/** Tool rounds per turn when the config does not say. */
export const DEFAULT_MAX_TOOL_ROUNDS = 5;

/** Observers of one turn; each is called synchronously and must not throw (the agent wraps them). */
export interface TurnObservers {
  onRoundStart?(round: number): void;
  onToolCall?(toolCall: ToolCall): void;
  onToolResult?(toolCall: ToolCall, result: unknown, isError: boolean): void;
}

/** Options of {@link runTurn}. */
export interface RunTurnOptions {
  /** The session the turn runs on. */
  session: Session;
  /** The user's message. */
  input: string;
  /** Tools the model may call. */
  tools: ToolRegistry;
  /** Tool rounds before the model must answer in text (default 5). */
  maxToolRounds?: number;
  /** Cancels the turn: nothing is written and the turn rejects with `ABORTED`. */
  signal?: AbortSignal;
  /** Receives the text deltas of every LLM round; when set the calls stream. */
  onDelta?: (text: string) => void;
  /** Builds what a tool sees of its call (`agent` comes from the caller). */
  toolContext(call: ToolCall, signal: AbortSignal): ToolExecutionContext;
  observers?: TurnObservers;
  /**
   * Runs the turn under the session's turn lease: waits (up to `waitMs`) while another owner
   * holds it, renews it while the turn runs long, releases it with the commit or on failure.
   */
  lease?: TurnLeaseSettings;
}

/** What {@link runTurn} returns: the turn's result and what its commit reported. */
export interface RunTurnResult {
  turn: EngineTurnResult['turn'];
  commit: TurnCommitResult;
}

/**
 * Thrown by {@link runTurn} for a claimed turn id that had already ended (nothing ran, no lease
 * was taken): it carries the stored outcome for the caller to answer with.
 */
export class FinishedTurn extends Error {
  readonly turn: StoredTurn;

  constructor(turn: StoredTurn) {
    super(`turn "${turn.turnId}" has already ended (${turn.status})`);
    this.name = 'FinishedTurn';
    this.turn = turn;
  }
}

/**
 * Runs one turn: LLM call, tool rounds, final answer, then one atomic commit.
 *
 * Every round's tool calls run in parallel; arguments are validated with each tool's zod schema;
 * an unknown tool, invalid arguments or a thrown error become error results for the model, never
 * a failed turn. After `maxToolRounds` rounds the model is called once more without tools, and
 * tool calls it still makes are answered with an error result and not executed, so the stored
 * history never holds a tool call without its result. Nothing is written before `commit()`.
 *
 * With `lease`, the commit also releases the turn lease; a failed or aborted turn releases it
 * with one more write before it rejects, so the next turn never waits for a lapse.
 *
 * @throws SessionError `ABORTED` when `signal` aborts (nothing written), `SESSION_BUSY` when the
 *   lease stayed taken for `lease.waitMs`, and whatever the session throws (`SESSION_NOT_FOUND`,
 *   `SESSION_ARCHIVED`, `NO_LLM`, `LLM_ERROR`, `TURN_CONFLICT`).
 */
export async function runTurn(options: RunTurnOptions): Promise<RunTurnResult> {
  const { session } = options;
  const maxToolRounds = Math.max(0, Math.floor(options.maxToolRounds ?? DEFAULT_MAX_TOOL_ROUNDS));
  const signal = options.signal ?? new AbortController().signal;

  throwIfAborted(signal);
  const { lease } = options;
  const draft = lease
    ? await beginLeasedTurn(session, options.input, signal, lease)
    : await guard(signal, () => session.beginTurn(options.input, { signal }));
  // A resubmitted turn id that already ended: no lease was taken, nothing runs.
  if (draft.context.finishedTurn) throw new FinishedTurn(draft.context.finishedTurn);
  const keeper = lease ? keepLeaseAlive(draft, lease) : null;
  try {
    return await runRounds(draft, options, maxToolRounds, signal, keeper);
  } catch (error) {
    // Stopped first: a renewal after the release would report the released lease as lost.
    keeper?.stop();
    // The ledger learns the outcome while the lease still holds the session, so a retry that
    // takes the lease next finds the turn ended rather than running it again.
    if (lease?.beforeRelease) await lease.beforeRelease(error);
    // A committed draft holds no lease any more, so this writes only for a turn that failed.
    if (lease) await releaseDraft(draft, lease.onError);
    throw error;
  } finally {
    keeper?.stop();
  }
}

/** The rounds of one turn and its commit. */
async function runRounds(
  draft: TurnDraft,
  options: RunTurnOptions,
  maxToolRounds: number,
  signal: AbortSignal,
  keeper: LeaseKeeper | null,
): Promise<RunTurnResult> {
  const { tools, observers = {} } = options;
  const schemas = tools.schemas();
  let toolRoundCount = 0;
  let toolCallsExecuted = 0;
  let final: LLMResult;
  for (let round = 0; ; round++) {
    observers.onRoundStart?.(round);
    const lastRound = toolRoundCount >= maxToolRounds;
    const offerTools = !lastRound && schemas.length > 0;
    const result = await guard(signal, () =>
      draft.call({
        signal,
        // An explicit empty list also overrides tools the session may carry by default.
        tools: offerTools ? schemas : [],
        ...(options.onDelta ? { onDelta: options.onDelta } : {}),
      }),
    );
    const calls = result.toolCalls ?? [];
    if (calls.length === 0) {
      final = result;
      break;
    }
    if (lastRound) {
      // The model was offered no tools; answer its calls so the stored group stays complete.
      draft.addToolResults(calls.map((call) => refusedResult(call)));
      final = { ...result, toolCalls: [] };
      break;
    }
    const settled = await guard(signal, () =>
      Promise.allSettled(
        calls.map((call) => executeToolCall(call, tools.get(call.name), options, signal, observers)),
      ),
    );
    const results = settled.map((outcome, index) =>
      outcome.status === 'fulfilled' ? outcome.value : failedResult(calls[index] as ToolCall, outcome.reason),
    );
    throwIfAborted(signal);
    draft.addToolResults(results);
    toolRoundCount += 1;
    toolCallsExecuted += calls.length;
  }

  throwIfAborted(signal);
  // A renewal racing the commit would find the lease released and report it as lost.
  keeper?.stop();
  const turn: EngineTurnResult['turn'] = {
    finalContent: final.content,
    toolRoundCount,
    toolCallsExecuted,
    rawResponse: JSON.stringify({
      content: final.content,
      toolCalls: final.toolCalls ?? [],
      usage: final.usage,
    }),
  };
  // With a claimed ledger entry the same write stores the result a retry will get.
  const commit = await draft.commit(options.lease?.claim ? { turnResult: { turn } } : {});
  return { turn, commit };
}

async function executeToolCall(
  call: ToolCall,
  definition: Tool | null,
  options: RunTurnOptions,
  signal: AbortSignal,
  observers: TurnObservers,
): Promise<ToolResultInput> {
  observers.onToolCall?.(call);
  const outcome = await invokeTool(call, definition, options, signal);
  observers.onToolResult?.(call, outcome.isError ? outcome.error : outcome.value, outcome.isError);
  return outcome.isError
    ? {
        toolCallId: call.id,
        toolName: call.name,
        content: JSON.stringify({ error: outcome.error }),
        isError: true,
      }
    : { toolCallId: call.id, toolName: call.name, content: toolOutputText(outcome.value) };
}

type ToolOutcome = { isError: false; value: unknown } | { isError: true; error: string };

async function invokeTool(
  call: ToolCall,
  definition: Tool | null,
  options: RunTurnOptions,
  signal: AbortSignal,
): Promise<ToolOutcome> {
  if (!definition) return { isError: true, error: `unknown tool "${call.name}"` };
  const parsed = definition.inputSchema.safeParse(call.input ?? {});
  if (!parsed.success) {
    return {
      isError: true,
      error: `invalid arguments for tool "${call.name}": ${z.prettifyError(parsed.error)}`,
    };
  }
  try {
    const context = options.toolContext(call, signal);
    // Marked as holding the session's queue slot: a tool that acts on its own session must not
    // wait for the turn that is waiting for it.
    const value = await SerialQueue.runHolding(options.session.id, () =>
      definition.execute(parsed.data, context),
    );
    return { isError: false, value };
  } catch (error) {
    return { isError: true, error: errorMessage(error) };
  }
}

function failedResult(call: ToolCall, error: unknown): ToolResultInput {
  return {
    toolCallId: call.id,
    toolName: call.name,
    content: JSON.stringify({ error: errorMessage(error) }),
    isError: true,
  };
}

function refusedResult(call: ToolCall): ToolResultInput {
  return failedResult(call, new Error('tool round limit reached; the call was not executed'));
}

/** Strings reach the model as they are; every other value as JSON. */
function toolOutputText(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return String(value);
  }
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return typeof error === 'string' ? error : 'tool failed';
}
