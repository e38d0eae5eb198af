/** How big and how long each scenario runs. */
export interface BenchSizes {
  /** Unmeasured run-in of every closed-loop measurement, ms. */
  warmupMs: number;
  /** Clients (and spaces) of the throughput scenarios. */
  clients: number;
  /** Measured window of the REST and WebSocket turn scenarios, ms (per round). */
  turnWindowMs: number;
  /** Rounds of those windows, alternating real and ceiling, merged per target. */
  turnRounds: number;
  /** Measured window of several clients on one session, ms. */
  oneSessionWindowMs: number;
  /** Forks of the wide burst (the tree then has this many + 1 nodes). */
  wideForks: number;
  /** Length of the deep fork chain. */
  deepForks: number;
  /** Measured window of the tree reads, ms. */
  treeReadWindowMs: number;
  /** History of the short sessions, and how many there are. */
  shortHistoryTurns: number;
  shortSessions: number;
  /**
   * History of the medium sessions (as many as the long ones): past the 200-record window a turn
   * sends to the model, so medium vs long shows whether cost still grows once the window is full.
   */
  mediumHistoryTurns: number;
  /** History of the long sessions, and how many there are. */
  longHistoryTurns: number;
  longSessions: number;
  /** Turns measured at each history length per round (spread over the sessions). */
  historyTurnOps: number;
  /** Rounds of the history measurements, alternating the lengths. */
  historyRounds: number;
  /** Children per history length of the memory-work scenario, and consolidations measured per round. */
  memorySessions: number;
  consolidationOps: number;
  /** Children of the root the integration reads, and integrations measured per round. */
  integrationChildren: number;
  integrationOps: number;
  /** Messages per page, and the measured window of the page reads, ms. */
  pageSize: number;
  pageWindowMs: number;
  /** Spaces of the cold-start scenario. */
  coldSpaces: number;
  /** Idle WebSockets opened. */
  idleSockets: number;
  /** Samples of each operation in the statements scenario. */
  statementSamples: number;
  /** Clients of the realistic-LLM scenario, and its measured window, ms. */
  realisticClients: number;
  realisticWindowMs: number;
  /** Direct requests that measure the fake LLM's own reply time. */
  llmProbeRequests: number;
  /** The whole run is aborted after this long, ms. */
  overallCapMs: number;
}

/** The default run: about four minutes on 2 cores. */
export const FULL_SIZES: BenchSizes = {
  warmupMs: 2_000,
  clients: 8,
  turnWindowMs: 6_000,
  turnRounds: 2,
  oneSessionWindowMs: 5_000,
  wideForks: 199,
  deepForks: 100,
  treeReadWindowMs: 5_000,
  shortHistoryTurns: 100,
  shortSessions: 40,
  mediumHistoryTurns: 250,
  longHistoryTurns: 2_000,
  longSessions: 4,
  historyTurnOps: 300,
  historyRounds: 2,
  memorySessions: 4,
  consolidationOps: 60,
  integrationChildren: 500,
  integrationOps: 10,
  pageSize: 50,
  pageWindowMs: 3_000,
  coldSpaces: 500,
  idleSockets: 2_000,
  statementSamples: 20,
  realisticClients: 64,
  realisticWindowMs: 8_000,
  llmProbeRequests: 30,
  overallCapMs: 12 * 60_000,
};

/** `--smoke`: everything, tiny, in well under a minute (keeps the bench working in CI). */
export const SMOKE_SIZES: BenchSizes = {
  warmupMs: 200,
  clients: 4,
  turnWindowMs: 1_000,
  turnRounds: 1,
  oneSessionWindowMs: 500,
  wideForks: 15,
  deepForks: 5,
  treeReadWindowMs: 500,
  shortHistoryTurns: 10,
  shortSessions: 2,
  mediumHistoryTurns: 30,
  longHistoryTurns: 60,
  longSessions: 2,
  historyTurnOps: 8,
  historyRounds: 1,
  memorySessions: 2,
  consolidationOps: 4,
  integrationChildren: 12,
  integrationOps: 2,
  pageSize: 10,
  pageWindowMs: 500,
  coldSpaces: 12,
  idleSockets: 50,
  statementSamples: 3,
  realisticClients: 8,
  realisticWindowMs: 1_000,
  llmProbeRequests: 3,
  overallCapMs: 3 * 60_000,
};

/** The fake LLM: chunks of every streamed reply, and the realistic model's timing. */
export interface LlmSettings {
  /** Pieces every reply is streamed in (both fakes). */
  chunkCount: number;
  /** The realistic fake's wait before its first token, ms (the other answers at once). */
  firstTokenMs: number;
  /** The realistic fake's wait between two chunks, ms (the other streams without pause). */
  chunkDelayMs: number;
}

/** The settings: 16 chunks; the realistic model takes 50 ms to its first token, then 5 ms a chunk. */
export const DEFAULT_LLM_SETTINGS: LlmSettings = { chunkCount: 16, firstTokenMs: 50, chunkDelayMs: 5 };
