import { randomUUID } from 'node:crypto';
import { SessionError } from '../errors';
import type { MainStorage } from '../storage';
import type { IntegrateFn, IntegrateResult, SessionMeta } from '../types';
import { BoundSession } from './session';
import type { SessionRuntimeOptions } from './session-options';
import { resolveContextOptions, runtimeOf } from './session-options';
import type { CreateMainSessionOptions, LoadMainSessionOptions, MainSession, Session } from './session-types';

const DEFAULT_MAIN_LABEL = 'Main Session';

function invalid(message: string, details?: Record<string, unknown>): SessionError {
  return new SessionError('INVALID_ARGUMENT', message, details ? { details } : undefined);
}

/**
 * Checks an integrate function's result: a string synthesis and an array of
 * `{ sessionId, content }` string pairs. Throws `INVALID_ARGUMENT` otherwise.
 */
export function validateIntegrateResult(value: unknown): IntegrateResult {
  if (value === null || typeof value !== 'object') throw invalid('integrate result must be an object');
  const { synthesis, insights } = value as { synthesis?: unknown; insights?: unknown };
  if (typeof synthesis !== 'string') throw invalid('integrate result needs a string synthesis');
  if (!Array.isArray(insights)) throw invalid('integrate result needs an insights array');
  const checked: IntegrateResult['insights'] = [];
  for (const insight of insights) {
    const candidate = insight as { sessionId?: unknown; content?: unknown } | null;
    if (
      candidate === null ||
      typeof candidate !== 'object' ||
      typeof candidate.sessionId !== 'string' ||
      typeof candidate.content !== 'string'
    ) {
      throw invalid('every insight needs a string sessionId and a string content');
    }
    checked.push({ sessionId: candidate.sessionId, content: candidate.content });
  }
  return { synthesis, insights: checked };
}

/** The root session: a `BoundSession` whose memory slot is the synthesis, plus integration. */
class BoundMainSession extends BoundSession implements MainSession {
  readonly #storage: MainStorage;

  constructor(storage: MainStorage, meta: SessionMeta, options: SessionRuntimeOptions) {
    super(storage, meta, runtimeOf(options));
    this.#storage = storage;
  }

  async synthesis(): Promise<string | null> {
    return this.#storage.getMemory(this.id);
  }

  /**
   * Reads every active child's L2, asks `fn` for a synthesis and insights, drops insights for ids
   * that are not among those children, and writes the synthesis and insights in one transaction.
   * A malformed result is rejected (`INVALID_ARGUMENT`) and nothing is written.
   */
  async integrate(fn: IntegrateFn): Promise<IntegrateResult> {
    await this.requireActive();
    const [children, current] = await Promise.all([
      this.#storage.getAllSessionL2s(),
      this.#storage.getMemory(this.id),
    ]);
    const result = validateIntegrateResult(await fn(children, current));
    const childIds = new Set(children.map((child) => child.sessionId));
    const insights = result.insights.filter((insight) => childIds.has(insight.sessionId));
    await this.#storage.commitIntegration(this.id, result.synthesis, insights);
    return { synthesis: result.synthesis, insights };
  }
}

/**
 * Creates the main (root) session of an empty space: its meta and system prompt in one
 * transaction. Throws `INVALID_ARGUMENT` when the space already has a main session.
 *
 * @example
 * const storage = new InMemoryStorageAdapter();
 * const main = await createMainSession({ storage, llm, label: 'My space', systemPrompt: 'Be brief.' });
 */
export async function createMainSession(options: CreateMainSessionOptions): Promise<MainSession> {
  resolveContextOptions(options.context);
  const label = options.label ?? DEFAULT_MAIN_LABEL;
  if (typeof label !== 'string' || label.trim().length === 0)
    throw invalid('label must be a non-empty string');
  const existing = await options.storage.listSessions({ role: 'main' });
  if (existing.length > 0) {
    throw invalid(`the space already has a main session "${existing[0]!.id}"`, {
      sessionId: existing[0]!.id,
    });
  }
  const at = new Date().toISOString();
  const meta: SessionMeta = {
    id: randomUUID(),
    label,
    role: 'main',
    status: 'active',
    tags: [...(options.tags ?? [])],
    metadata: structuredClone(options.metadata ?? {}),
    createdAt: at,
    updatedAt: at,
  };
  await options.storage.transaction(async (tx) => {
    await tx.putSession(meta);
    if (options.systemPrompt !== undefined) await tx.putSystemPrompt(meta.id, options.systemPrompt);
  });
  const stored = await options.storage.getSession(meta.id);
  return new BoundMainSession(options.storage, stored ?? meta, options);
}

/**
 * Loads the main session by id: `null` when missing; throws `NOT_MAIN_SESSION` when the id names
 * a standard session.
 */
export async function loadMainSession(
  id: string,
  options: LoadMainSessionOptions,
): Promise<MainSession | null> {
  resolveContextOptions(options.context);
  const meta = await options.storage.getSession(id);
  if (!meta) return null;
  if (meta.role !== 'main') {
    throw new SessionError('NOT_MAIN_SESSION', `session "${id}" is not the main session`, {
      details: { sessionId: id },
    });
  }
  return new BoundMainSession(options.storage, meta, options);
}

/**
 * Wraps a session whose meta the caller has already read, without touching storage: a
 * `MainSession` for the root, a `Session` otherwise. Saves the second read of `loadSession` when
 * the caller looked the session up anyway (the agent does, once per runtime).
 */
export function openSession(meta: SessionMeta, options: LoadMainSessionOptions): Session | MainSession {
  const runtime = runtimeOf(options);
  resolveContextOptions(options.context);
  return meta.role === 'main'
    ? new BoundMainSession(options.storage, meta, runtime)
    : new BoundSession(options.storage, meta, runtime);
}
