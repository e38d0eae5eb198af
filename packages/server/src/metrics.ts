import type { Logger } from '@stello-ai/runtime';
import type pg from 'pg';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

// Metrics come from the events the server already logs (one `http.request` per request, one
// `turn` per turn, socket and agent lifecycle events): the logger is wrapped, so no layer below
// the server knows about Prometheus and nothing is counted twice.

/** Prometheus metrics of one server. */
export interface ServerMetrics {
  readonly registry: Registry;
  /** Feeds one logged event to the metrics. */
  observe(event: string, fields: Record<string, unknown>): void;
  /** The text exposition format, for `GET /metrics`. */
  render(): Promise<string>;
}

/** What the gauges read when scraped. */
export interface MetricsSources {
  pool: pg.Pool;
  /** Cached agents. */
  agents(): number;
  /** Open HTTP connections (WebSockets included) of the listening server. */
  connections?(): number;
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const LLM_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120];

/** Creates the metrics of one server, on a registry of its own (two servers in one process never mix). */
export function createServerMetrics(sources: MetricsSources): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'stello_process_' });
  const requests = new Counter({
    name: 'stello_http_requests_total',
    help: 'HTTP requests, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const requestSeconds = new Histogram({
    name: 'stello_http_request_duration_seconds',
    help: 'HTTP request duration, by route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: SECONDS,
    registers: [registry],
  });
  const turns = new Counter({
    name: 'stello_turns_total',
    help: 'Turns, by transport, streamed or not, and outcome (ok or the error code)',
    labelNames: ['transport', 'stream', 'outcome'] as const,
    registers: [registry],
  });
  const turnSeconds = new Histogram({
    name: 'stello_turn_duration_seconds',
    help: 'Duration of completed turns (context read, LLM rounds, tools, commit)',
    labelNames: ['transport', 'stream'] as const,
    buckets: SECONDS,
    registers: [registry],
  });
  const toolCalls = new Counter({
    name: 'stello_tool_calls_total',
    help: 'Tool calls executed by completed turns',
    registers: [registry],
  });
  const openSockets = new Gauge({
    name: 'stello_websockets_open',
    help: 'Open WebSocket connections',
    registers: [registry],
  });
  const droppedSockets = new Counter({
    name: 'stello_websockets_dropped_total',
    help: 'WebSockets dropped for abuse (send buffer full, protocol errors), by close code',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const memoryFailures = new Counter({
    name: 'stello_memory_work_failures_total',
    help: 'Background consolidations and integrations that failed, by phase',
    labelNames: ['phase'] as const,
    registers: [registry],
  });
  const agentEvictions = new Counter({
    name: 'stello_agent_evictions_total',
    help: 'Agents evicted from the cache, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const llmSeconds = new Histogram({
    name: 'stello_llm_call_duration_seconds',
    help: 'Duration of LLM calls (turn rounds and memory work), by streamed or not and outcome',
    labelNames: ['stream', 'outcome'] as const,
    buckets: LLM_SECONDS,
    registers: [registry],
  });
  const firstDeltaSeconds = new Histogram({
    name: 'stello_llm_first_delta_seconds',
    help: 'Time from a streamed LLM call to its first delta',
    buckets: LLM_SECONDS,
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'stello_llm_tokens_total',
    help: 'Tokens the LLM provider reported, by direction (in: prompt, out: completion)',
    labelNames: ['direction'] as const,
    registers: [registry],
  });
  const leaseWaitSeconds = new Histogram({
    name: 'stello_turn_lease_wait_seconds',
    help: "Time from a turn's start on its session to its first LLM call: the turn lease (waits on another process's lease included) and the context read",
    buckets: SECONDS,
    registers: [registry],
  });
  const memoryRuns = new Counter({
    name: 'stello_memory_work_runs_total',
    help: 'Background consolidations and integrations that completed, by phase',
    labelNames: ['phase'] as const,
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'stello_rate_limited_total',
    help: 'Turns refused by a per-key limit, by limit',
    labelNames: ['limit'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'stello_http_connections_open',
    help: 'Open HTTP connections (WebSockets included)',
    registers: [registry],
    collect() {
      this.set(sources.connections?.() ?? 0);
    },
  });
  new Gauge({
    name: 'stello_agents_cached',
    help: 'Agents cached (one per recently used space)',
    registers: [registry],
    collect() {
      this.set(sources.agents());
    },
  });
  new Gauge({
    name: 'stello_db_pool_connections',
    help: 'Connections of the database pool, by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.set({ state: 'total' }, sources.pool.totalCount);
      this.set({ state: 'idle' }, sources.pool.idleCount);
      this.set({ state: 'waiting' }, sources.pool.waitingCount);
    },
  });

  const text = (value: unknown, fallback: string) => (typeof value === 'string' ? value : fallback);
  return {
    registry,
    observe(event, fields) {
      switch (event) {
        case 'http.request': {
          const method = text(fields.method, 'GET');
          const route = text(fields.route, 'unmatched');
          requests.inc({ method, route, status: String(fields.status ?? 0) });
          if (typeof fields.durationMs === 'number')
            requestSeconds.observe({ method, route }, fields.durationMs / 1000);
          return;
        }
        case 'turn':
        case 'turn.failed': {
          const labels = {
            transport: text(fields.transport, 'rest'),
            stream: String(fields.stream === true),
          };
          turns.inc({ ...labels, outcome: event === 'turn' ? 'ok' : text(fields.code, 'INTERNAL') });
          if (event === 'turn' && typeof fields.durationMs === 'number')
            turnSeconds.observe(labels, fields.durationMs / 1000);
          if (event === 'turn' && typeof fields.toolCalls === 'number') toolCalls.inc(fields.toolCalls);
          return;
        }
        case 'ws.connect':
          openSockets.inc();
          return;
        case 'ws.disconnect':
          openSockets.dec();
          return;
        case 'ws.dropped':
          droppedSockets.inc({ code: String(fields.code ?? 0) });
          return;
        case 'agent.background_failed':
          memoryFailures.inc({ phase: text(fields.phase, 'unknown') });
          return;
        case 'agent.evicted':
          agentEvictions.inc({ reason: text(fields.reason, 'unknown') });
          return;
        case 'llm.call': {
          if (typeof fields.durationMs === 'number') {
            llmSeconds.observe(
              { stream: String(fields.stream === true), outcome: text(fields.outcome, 'ok') },
              fields.durationMs / 1000,
            );
          }
          if (typeof fields.firstDeltaMs === 'number') firstDeltaSeconds.observe(fields.firstDeltaMs / 1000);
          if (typeof fields.promptTokens === 'number') tokens.inc({ direction: 'in' }, fields.promptTokens);
          if (typeof fields.completionTokens === 'number')
            tokens.inc({ direction: 'out' }, fields.completionTokens);
          return;
        }
        case 'turn.lease_wait':
          if (typeof fields.waitMs === 'number') leaseWaitSeconds.observe(fields.waitMs / 1000);
          return;
        case 'memory.consolidated':
          memoryRuns.inc({ phase: 'consolidate' });
          return;
        case 'memory.integrated':
          memoryRuns.inc({ phase: 'integrate' });
          return;
        case 'rate.limited':
          rateLimited.inc({ limit: text(fields.limit, 'unknown') });
          return;
      }
    },
    render: () => registry.metrics(),
  };
}

/** `logger`, also feeding every event to `metrics`. */
export function withMetrics(logger: Logger, metrics: ServerMetrics): Logger {
  const tap =
    (level: 'info' | 'warn' | 'error') =>
    (event: string, fields: Record<string, unknown> = {}): void => {
      metrics.observe(event, fields);
      logger[level](event, fields);
    };
  // Debug events (LLM calls, lease waits) are counted whatever the log level.
  const debug = (event: string, fields: Record<string, unknown> = {}): void => {
    metrics.observe(event, fields);
    logger.debug?.(event, fields);
  };
  return { debug, info: tap('info'), warn: tap('warn'), error: tap('error') };
}
