import { randomInt } from 'node:crypto';
import { type RawBuilder, sql } from 'kysely';
import pg from 'pg';
import {
  type ControlChannel,
  type ControlEvent,
  type ControlEventInput,
  type ControlResyncReason,
  decodeControlEvent,
  dispatchTo,
  encodeControlEvent,
} from './control-channel';

/** The NOTIFY channel of Stello's control events. */
export const DEFAULT_CONTROL_CHANNEL = 'stello_control';
/**
 * Kind of the event the storage statements that revoke or replace a key send at commit (`data.userId`;
 * `instanceId` 0: it may come from a process with no channel, such as the CLI).
 */
export const KEY_REVOKED_EVENT = 'key.revoked';
/**
 * First key of every liveness lock (`pg_advisory_lock(namespace, instanceId)`): "STEL". Other
 * applications' advisory locks on the same database use other namespaces or one-key locks.
 */
export const INSTANCE_LOCK_NAMESPACE = 0x5354_454c;

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;
const DEFAULT_HEALTH_CHECK_MS = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const MAX_INSTANCE_ID = 2 ** 31 - 1;
/** Events sent by one NOTIFY statement at most (payloads are < 7 KB each). */
const MAX_EVENTS_PER_STATEMENT = 50;
const MAX_ID_ATTEMPTS = 8;

/** Options of {@link PgControlChannel}. */
export interface PgControlChannelOptions {
  /**
   * A DIRECT connection to the database (or through a pooler in session mode): LISTEN and session
   * advisory locks do not work through a transaction pooler such as PgBouncer's transaction mode.
   */
  connectionString: string;
  /** The pool that publishes events (NOTIFY works through any pooler). */
  pool: pg.Pool;
  /** NOTIFY channel name; every process of one deployment must use the same. */
  channel?: string;
  /** How often the listening connection is probed, so a half-open socket is noticed (ms). */
  healthCheckMs?: number;
  /** How long connecting may take (ms). */
  connectTimeoutMs?: number;
  /** Receives failures nobody else sees (a lost connection, a listener that threw). */
  onError?: (error: unknown) => void;
}

/**
 * The control channel on PostgreSQL: one dedicated connection per process LISTENs on one channel
 * and holds a session advisory lock `(INSTANCE_LOCK_NAMESPACE, instanceId)`. PostgreSQL drops
 * that lock the moment the connection ends, so a process killed with SIGKILL is seen as dead at
 * once (`pg_locks`), without heartbeats or timeouts. When the connection drops, the channel
 * reconnects with backoff, takes its lock again and tells `onResync` listeners to re-check what
 * they cache.
 *
 * @example
 * ```ts
 * const control = new PgControlChannel({ connectionString: url, pool });
 * await control.start();
 * control.subscribe((event) => { if (event.kind === 'space.updated') cache.delete(event.spaceId!); });
 * await control.publish({ kind: 'space.updated', spaceId });
 * ```
 */
export class PgControlChannel implements ControlChannel {
  readonly #options: PgControlChannelOptions;
  readonly #channel: string;
  readonly #listeners = new Set<(event: ControlEvent) => void>();
  readonly #resyncListeners = new Set<(reason: ControlResyncReason) => void>();
  #client: pg.Client | null = null;
  #instanceId = 0;
  #starting: Promise<void> | null = null;
  #closed = false;
  readonly #outbox: Array<{ payload: string; resolve(): void; reject(error: unknown): void }> = [];
  #flushScheduled = false;
  /**
   * The last statement sent on the listening connection. They go one after another: pg queues a
   * query sent while another runs, which it deprecates and pg 9 refuses.
   */
  #clientTail: Promise<unknown> = Promise.resolve();
  #reconnectDelay = RECONNECT_MIN_MS;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #healthTimer: NodeJS.Timeout | undefined;

  constructor(options: PgControlChannelOptions) {
    if (typeof options.connectionString !== 'string' || options.connectionString.trim() === '') {
      throw new TypeError('PgControlChannel needs a connectionString');
    }
    this.#options = options;
    this.#channel = options.channel ?? DEFAULT_CONTROL_CHANNEL;
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.#channel)) {
      throw new TypeError('the control channel name must be a lower-case SQL identifier of at most 63 bytes');
    }
  }

  /** This process's identity (0 before `start`). */
  get instanceId(): number {
    return this.#instanceId;
  }

  /** True while the listening connection is up and holds the liveness lock. */
  get connected(): boolean {
    return this.#client !== null;
  }

  start(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the control channel is closed'));
    this.#starting ??= this.#connect();
    return this.#starting;
  }

  subscribe(listener: (event: ControlEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onResync(listener: (reason: ControlResyncReason) => void): () => void {
    this.#resyncListeners.add(listener);
    return () => this.#resyncListeners.delete(listener);
  }

  /**
   * Publishes an event. Events published in the same tick leave together in one statement, on the
   * channel's own connection when it is up (else through the pool), so publishing costs the query
   * pool nothing and a busy process sends one NOTIFY statement per tick, not one per event.
   */
  publish(event: ControlEventInput): Promise<void> {
    let payload: string;
    try {
      payload = this.#encode(event);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      this.#outbox.push({ payload, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#outbox.splice(0, MAX_EVENTS_PER_STATEMENT);
    if (batch.length === 0) return;
    if (this.#outbox.length > 0) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
    const text = `SELECT ${batch.map((_, i) => `pg_notify($1, $${i + 2})`).join(', ')}`;
    const values = [this.#channel, ...batch.map((entry) => entry.payload)];
    const client = this.#client;
    const sent = client ? this.#onClient(client, text, values) : this.#options.pool.query(text, values);
    sent.then(
      () => {
        for (const entry of batch) entry.resolve();
      },
      (error: unknown) => {
        for (const entry of batch) entry.reject(error);
      },
    );
  }

  /** Sends a statement on the listening connection after the ones already sent on it. */
  #onClient(client: pg.Client, text: string, values?: unknown[]): Promise<pg.QueryResult> {
    const sent = this.#clientTail.then(() => client.query(text, values));
    this.#clientTail = sent.catch(() => {});
    return sent;
  }

  /**
   * A `pg_notify(...)` call for a statement's own CTE, so the event is sent exactly when that
   * statement's transaction commits, at no extra round trip.
   */
  notifySql(event: ControlEventInput): RawBuilder<unknown> {
    return sql`pg_notify(${this.#channel}::text, ${this.#encode(event)}::text)`;
  }

  async isInstanceAlive(instanceId: number): Promise<boolean> {
    const { rows } = await this.#options.pool.query<{ alive: boolean }>(
      `SELECT ${INSTANCE_ALIVE_SQL_TEXT} AS alive`,
      [instanceId],
    );
    return rows[0]?.alive === true;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#healthTimer);
    await this.#starting?.catch(() => {});
    const client = this.#client;
    this.#client = null;
    // Ending the session releases the advisory lock and the LISTEN.
    await client?.end().catch(() => {});
    this.#listeners.clear();
    this.#resyncListeners.clear();
  }

  #encode(event: ControlEventInput): string {
    if (this.#instanceId === 0) throw new Error('the control channel is not started');
    return encodeControlEvent({ ...event, instanceId: this.#instanceId });
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#options.connectionString,
      application_name: 'stello-control',
      keepAlive: true,
      connectionTimeoutMillis: this.#options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    });
    // Until it is ours, an error only fails this attempt.
    client.on('error', () => {});
    try {
      await client.connect();
      // The listening session must never be cut for idling or held in a transaction.
      await client.query('SET idle_session_timeout = 0');
      await client.query('SET idle_in_transaction_session_timeout = 0');
      this.#instanceId = await this.#lockIdentity(client);
      await client.query(`LISTEN ${this.#channel}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    client.removeAllListeners('error');
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, new Error('the control connection ended')));
    client.on('notification', (message) => {
      if (message.channel !== this.#channel) return;
      const event = decodeControlEvent(message.payload);
      if (event) dispatchTo(this.#listeners, event, (error) => this.#report(error));
    });
    this.#client = client;
    this.#clientTail = Promise.resolve();
    this.#reconnectDelay = RECONNECT_MIN_MS;
    this.#startHealthChecks(client);
  }

  /** Takes the liveness lock: the same identity again after a reconnect, else a fresh one. */
  async #lockIdentity(client: pg.Client): Promise<number> {
    const candidates = this.#instanceId === 0 ? [] : [this.#instanceId];
    for (let attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt++) {
      const id = candidates[attempt] ?? randomInt(1, MAX_INSTANCE_ID);
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1::int, $2::int) AS locked',
        [INSTANCE_LOCK_NAMESPACE, id],
      );
      if (rows[0]?.locked) return id;
    }
    throw new Error('could not take a free instance identity');
  }

  #startHealthChecks(client: pg.Client): void {
    clearInterval(this.#healthTimer);
    const everyMs = this.#options.healthCheckMs ?? DEFAULT_HEALTH_CHECK_MS;
    this.#healthTimer = setInterval(() => {
      const probe = this.#onClient(client, 'SELECT 1');
      const timeout = new Promise<never>((_, reject) => {
        setTimeout(() => reject(new Error('the control connection stopped answering')), everyMs).unref();
      });
      Promise.race([probe, timeout]).catch((error: unknown) => this.#lost(client, error));
    }, everyMs);
    this.#healthTimer.unref();
  }

  #lost(client: pg.Client, error: unknown): void {
    if (this.#client !== client) return;
    this.#client = null;
    clearInterval(this.#healthTimer);
    client.removeAllListeners('notification');
    // A half-open socket may not end by itself; make sure the old session is gone.
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    client.end().catch(() => {});
    if (this.#closed) return;
    this.#report(error);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const delay = Math.round(this.#reconnectDelay * (0.75 + Math.random() * 0.5));
    this.#reconnectDelay = Math.min(this.#reconnectDelay * 2, RECONNECT_MAX_MS);
    this.#reconnectTimer = setTimeout(() => {
      if (this.#closed) return;
      this.#starting = this.#connect().then(
        () => dispatchTo(this.#resyncListeners, 'reconnected' as const, (error) => this.#report(error)),
        (error: unknown) => {
          this.#report(error);
          this.#scheduleReconnect();
        },
      );
    }, delay);
    this.#reconnectTimer.unref();
  }

  #report(error: unknown): void {
    try {
      this.#options.onError?.(error);
    } catch {
      // A failing error reporter must not break the channel.
    }
  }
}

// $1 is the instance id. Advisory locks are per database, so the check names the current one.
const INSTANCE_ALIVE_SQL_TEXT = `EXISTS (SELECT 1 FROM pg_locks l
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND l.classid = ${INSTANCE_LOCK_NAMESPACE}::oid AND l.objid = $1::int::oid)`;

/**
 * SQL that is true while the process `instanceId` (an int expression) holds its liveness lock,
 * for statements that must tell a dead owner from a live one (lease take-over, turn status).
 */
export function instanceAliveSql(instanceId: RawBuilder<unknown> | number): RawBuilder<boolean> {
  return sql<boolean>`EXISTS (SELECT 1 FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid = ${sql.lit(INSTANCE_LOCK_NAMESPACE)}::oid AND l.objid = (${instanceId})::int::oid)`;
}
