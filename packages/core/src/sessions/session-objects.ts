import type { MainStorage, Session, SessionMeta } from '@stello-ai/session';
import { openSession, SessionError, sessionNotFoundError } from '@stello-ai/session';
import type { StelloAgentConfig } from '../agent-types';
import { RuntimeManager } from './runtime-manager';

/**
 * How long a session's runtime (its session object) stays cached without holders. Keeping it
 * saves the session lookup on the next turn; every turn re-reads the session's state anyway.
 */
export const DEFAULT_RUNTIME_IDLE_TTL_MS = 60_000;

/**
 * The session objects ("runtimes") of one agent: loaded through the configured resolver or the
 * built-in loader over `storage`, cached while held and recycled when idle.
 */
export class SessionObjects {
  /** The cache: attach/detach hold runtimes here, and every operation holds one while it runs. */
  readonly runtimes: RuntimeManager<Session>;
  readonly #config: Readonly<StelloAgentConfig>;
  #operationSeq = 0;

  constructor(config: Readonly<StelloAgentConfig>) {
    this.#config = config;
    this.runtimes = new RuntimeManager<Session>({
      create: (id) => this.#loadSession(id),
      idleTtlMs: config.runtime?.recyclePolicy?.idleTtlMs ?? DEFAULT_RUNTIME_IDLE_TTL_MS,
    });
  }

  /**
   * Runs `fn` with the session object of a turn: the cached runtime when there is one. Otherwise,
   * with the built-in loader, a transient object is opened without a lookup — the turn's own read
   * returns the session's state (or `SESSION_NOT_FOUND`), so the first turn on a session costs no
   * extra statement — and is then cached for the next turns.
   */
  async withTurnSession<T>(sessionId: string, fn: (session: Session) => Promise<T>): Promise<T> {
    const storage = this.#config.storage;
    if (this.runtimes.has(sessionId) || this.#config.session?.sessionResolver || !storage) {
      return this.withRuntime(sessionId, 'turn', fn);
    }
    const options = this.#sessionOptions(storage);
    const session = openSession(blankMeta(sessionId), options);
    const result = await fn(session);
    this.runtimes.adopt(sessionId, openSession(session.meta, options));
    return result;
  }

  /** Holds `sessionId`'s runtime for the duration of `fn`. */
  async withRuntime<T>(sessionId: string, purpose: string, fn: (session: Session) => Promise<T>): Promise<T> {
    this.#operationSeq += 1;
    const holderId = `agent:${purpose}:${this.#operationSeq}`;
    const session = await this.runtimes.acquire(sessionId, holderId);
    try {
      return await fn(session);
    } finally {
      this.runtimes.release(sessionId, holderId);
    }
  }

  /** How the built-in loader opens sessions on `storage`. */
  #sessionOptions(storage: MainStorage) {
    return {
      storage,
      ...(this.#config.llm ? { llm: this.#config.llm } : {}),
      ...(this.#config.session?.context ? { context: this.#config.session.context } : {}),
    };
  }

  /** Builds the session object of `sessionId`, or throws `SESSION_NOT_FOUND`. */
  async #loadSession(sessionId: string): Promise<Session> {
    const resolver = this.#config.session?.sessionResolver;
    let session: Session | null;
    if (resolver) {
      session = await resolver(sessionId);
    } else {
      const storage = this.#config.storage;
      if (!storage) throw new SessionError('INVALID_ARGUMENT', 'the agent has no storage');
      const meta = await storage.getSession(sessionId);
      // One read: the meta found here builds the session object directly.
      session = meta ? openSession(meta, this.#sessionOptions(storage)) : null;
    }
    if (!session) throw sessionNotFoundError(sessionId);
    return session;
  }
}

/** The meta of a session object opened before its first read; the turn's read replaces it. */
function blankMeta(id: string): SessionMeta {
  const epoch = new Date(0).toISOString();
  return {
    id,
    label: '',
    role: 'standard',
    status: 'active',
    tags: [],
    metadata: {},
    createdAt: epoch,
    updatedAt: epoch,
  };
}
