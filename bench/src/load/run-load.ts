import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** What one operation may report beside its latency (e.g. the first delta of a stream). */
export type OpExtras = Record<string, number> | undefined;

/** Hooks around the measured window (server snapshots are taken there). */
export interface WindowHooks {
  /** Called right before the measured window opens. */
  begin(): Promise<void>;
  /** Called right after it closes, before in-flight operations drain. */
  end(): Promise<void>;
}

/** The raw outcome of a load run. */
export interface LoadResult {
  /** Operations completed inside the measured window. */
  ops: number;
  /** Failed operations (anywhere in the run). */
  errors: number;
  /** The first few error messages. */
  errorSamples: string[];
  /** Length of the measured window. */
  elapsedMs: number;
  /** Latency of each counted operation. */
  latencies: number[];
  /** Extra per-operation figures, by name. */
  extras: Record<string, number[]>;
}

const ERROR_SAMPLES = 5;
// After a failure a client pauses, so a broken server is not hammered in a tight loop.
const ERROR_BACKOFF_MS = 5;

class Collector {
  ops = 0;
  errors = 0;
  readonly errorSamples: string[] = [];
  readonly latencies: number[] = [];
  readonly extras: Record<string, number[]> = {};

  record(latencyMs: number, extras: OpExtras): void {
    this.ops += 1;
    this.latencies.push(latencyMs);
    if (!extras) return;
    for (const [name, value] of Object.entries(extras)) {
      const series = this.extras[name] ?? [];
      series.push(value);
      this.extras[name] = series;
    }
  }

  fail(error: unknown): void {
    this.errors += 1;
    if (this.errorSamples.length < ERROR_SAMPLES) {
      this.errorSamples.push(error instanceof Error ? error.message : String(error));
    }
  }

  result(elapsedMs: number): LoadResult {
    const { ops, errors, errorSamples, latencies, extras } = this;
    return { ops, errors, errorSamples, elapsedMs, latencies, extras };
  }
}

/** Options of {@link runClosedLoop}. */
export interface ClosedLoopOptions extends WindowHooks {
  /** Concurrent clients, each running one operation after another. */
  clients: number;
  /** Unmeasured run-in (JIT, connections, caches). */
  warmupMs: number;
  /** Length of the measured window. */
  durationMs: number;
  /** Closes the window early once this many operations completed in it. */
  maxOps?: number;
  /** One operation of client `client`. */
  op(client: number): Promise<OpExtras | undefined>;
}

/**
 * Runs `clients` closed-loop clients: a warm-up, then a measured window in which every completed
 * operation counts (throughput = completions / window). Operations in flight when the window
 * closes are awaited but not counted.
 */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<LoadResult> {
  const collector = new Collector();
  let phase: 'warmup' | 'measure' | 'drain' = 'warmup';
  let windowFull: (() => void) | null = null;
  const client = async (index: number) => {
    while (phase !== 'drain') {
      const startedAt = performance.now();
      try {
        const extras = await options.op(index);
        if (phase === 'measure') {
          collector.record(performance.now() - startedAt, extras);
          if (options.maxOps !== undefined && collector.ops >= options.maxOps) windowFull?.();
        }
      } catch (error) {
        collector.fail(error);
        await sleep(ERROR_BACKOFF_MS);
      }
    }
  };
  const running = Array.from({ length: options.clients }, (_, index) => client(index));
  await sleep(options.warmupMs);
  await options.begin();
  phase = 'measure';
  const openedAt = performance.now();
  await Promise.race([
    sleep(options.durationMs),
    new Promise<void>((resolve) => {
      windowFull = resolve;
    }),
  ]);
  const elapsedMs = performance.now() - openedAt;
  phase = 'drain';
  await options.end();
  await Promise.all(running);
  return collector.result(elapsedMs);
}

/** Options of {@link runBatch}. */
export interface BatchOptions extends WindowHooks {
  /** Number of operations. */
  count: number;
  /** How many run at once. */
  concurrency: number;
  /** Operation number `index` (0-based, started in order). */
  op(index: number): Promise<OpExtras | undefined>;
}

/** Runs a fixed number of operations, `concurrency` at a time; the whole batch is the window. */
export async function runBatch(options: BatchOptions): Promise<LoadResult> {
  const collector = new Collector();
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < options.count; index = next++) {
      const startedAt = performance.now();
      try {
        const extras = await options.op(index);
        collector.record(performance.now() - startedAt, extras);
      } catch (error) {
        collector.fail(error);
      }
    }
  };
  await options.begin();
  const openedAt = performance.now();
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.count) }, worker));
  const elapsedMs = performance.now() - openedAt;
  await options.end();
  return collector.result(elapsedMs);
}
