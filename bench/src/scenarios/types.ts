import type { FakeLlmCounters, FakeLlmInfo } from '../infra/fake-llm-child';
import type { ChildProcessHandle } from '../infra/rpc';
import type { SeedParams, ServerStats } from '../infra/server-child';
import type { LatencySummary } from '../load/latency';
import type { RestClient } from '../load/rest-client';
import type { BenchSizes } from '../sizes';

/**
 * `real`: the server on PostgreSQL; `ceiling`: the same HTTP/WebSocket stack with no database;
 * `bare`: the bare reference server (same API shape, a page of code, no project package).
 */
export type Mode = 'real' | 'ceiling' | 'bare';

/** A running server under test, as the scenarios drive it. */
export interface ServerTarget {
  mode: Mode;
  /** `http://127.0.0.1:PORT`. */
  httpUrl: string;
  /** `ws://127.0.0.1:PORT`. */
  wsUrl: string;
  /** Keep-alive HTTP client of this server. */
  rest: RestClient;
  /** Key of the bench's user on this server. */
  apiKey: string;
  /** CPU, memory and statement counters of the server process. */
  stats(): Promise<ServerStats>;
  /** Collects garbage in the server process, then answers `stats`. */
  gc(): Promise<ServerStats>;
  /** Appends seeded turns to sessions' histories through the server's own storage. */
  seed(sessions: SeedParams[]): Promise<void>;
  /** Drops the cached agents of these spaces (their data stays). */
  evict(spaceIds: string[]): Promise<void>;
  /** Returns the SQL statements traced so far, then starts (`true`) or stops tracing them. */
  trace(on: boolean): Promise<string[]>;
  /** CPU spent outside the server: the load generator, the fake LLM and PostgreSQL. */
  cpuElsewhere(): Promise<CpuElsewhere>;
}

/** Cumulative CPU time of the other processes of a run, in milliseconds. */
export interface CpuElsewhere {
  /** This process (the load generator). */
  loadgenMs: number;
  llmMs: number;
  /** The PostgreSQL server (postmaster and backends); `null` when it cannot be observed. */
  postgresMs: number | null;
}

/** The fake LLM process. */
export interface FakeLlm {
  info: FakeLlmInfo;
  counters(): Promise<{ zero: FakeLlmCounters; realistic: FakeLlmCounters }>;
  reset(): Promise<void>;
  /** `process.cpuUsage()` of the fake LLM process. */
  cpu(): Promise<NodeJS.CpuUsage>;
  handle: ChildProcessHandle<FakeLlmInfo>;
}

/** The measured figures of one operation against one server. */
export interface Figures {
  /** Operations counted. */
  ops: number;
  /** Failed operations. */
  errors: number;
  /** The first few failures. */
  errorSamples: string[];
  /** Length of the measured window, ms. */
  durationMs: number;
  opsPerSec: number;
  /** Latency of one operation as the client saw it, ms. */
  latencyMs: LatencySummary;
  /** Server CPU (user + system) per operation, ms. */
  cpuMsPerOp: number;
  /** SQL round trips per operation (`null` for the ceiling, which has no database). */
  sqlPerOp: number | null;
  /** Other per-operation series (e.g. `firstDeltaMs`). */
  series: Record<string, LatencySummary>;
  /** Other scalar figures (e.g. memory per connection, CPU of the other processes per op). */
  values: Record<string, number>;
  /** The SQL statements of one operation (statements scenario, real server only). */
  sqlTrace?: string[];
}

/** One line of the results: an operation measured on the real server and on the ceiling. */
export interface ResultRow {
  /** Stable id, used by the targets (`rest-turns.8c8s`). */
  id: string;
  scenario: ScenarioName;
  /** What was measured, for humans. */
  label: string;
  real: Figures | null;
  ceiling: Figures | null;
  /** Real throughput ÷ ceiling throughput, when both were measured. */
  ceilingRatio: number | null;
  /** The bare reference, on the rows that measure it (turns); `null` elsewhere. */
  bare: Figures | null;
  /** Real throughput ÷ bare throughput, when both were measured. */
  bareRatio: number | null;
}

/** Names of the scenarios, in run order. */
export const SCENARIO_NAMES = [
  'rest-turns',
  'ws-streams',
  'forks',
  'long-session',
  'memory-work',
  'cold-spaces',
  'idle-sockets',
  'statements',
  'realistic-llm',
] as const;

/** A scenario name. */
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** What a scenario gets to run with. */
export interface ScenarioContext {
  sizes: BenchSizes;
  /** The real server first, then the ceiling. */
  targets: ServerTarget[];
  llm: FakeLlm;
  log(line: string): void;
}

/** A scenario: it measures some operations on every target and returns one row per operation. */
export interface Scenario {
  name: ScenarioName;
  description: string;
  run(ctx: ScenarioContext): Promise<ResultRow[]>;
}
