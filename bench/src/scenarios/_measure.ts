import type { ServerStats } from '../infra/server-child';
import { summarize } from '../load/latency';
import type { LoadResult, WindowHooks } from '../load/run-load';
import type { CpuElsewhere, Figures, ResultRow, ScenarioName, ServerTarget } from './types';

/** One measured window: the load's outcome and every counter at its edges. */
export interface Sample {
  result: LoadResult;
  before: ServerStats;
  after: ServerStats;
  elsewhereBefore: CpuElsewhere;
  elsewhereAfter: CpuElsewhere;
}

/** A load to run against a target (the window hooks take the snapshots). */
export type RunLoad = (hooks: WindowHooks) => Promise<LoadResult>;

/** Runs a load against `target` with snapshots of every process at the edges of its window. */
export async function sample(target: ServerTarget, run: RunLoad): Promise<Sample> {
  let edges: Omit<Sample, 'result'> | undefined;
  let before: [ServerStats, CpuElsewhere] | undefined;
  const result = await run({
    begin: async () => {
      before = await Promise.all([target.stats(), target.cpuElsewhere()]);
    },
    end: async () => {
      const after = await Promise.all([target.stats(), target.cpuElsewhere()]);
      if (!before) throw new Error('the window closed before it opened');
      edges = { before: before[0], elsewhereBefore: before[1], after: after[0], elsewhereAfter: after[1] };
    },
  });
  if (!edges) throw new Error('the load ran without its window hooks');
  return { result, ...edges };
}

/**
 * Runs a load against `target` and turns it into figures: throughput, latency percentiles,
 * server CPU and SQL per operation, and the CPU the other processes spent per operation.
 */
export async function measure(target: ServerTarget, run: RunLoad): Promise<Figures> {
  return toFigures(target, [await sample(target, run)]);
}

/** Figures of one or more windows of the same operation on one target, merged. */
export function toFigures(target: ServerTarget, samples: readonly Sample[]): Figures {
  const sum = (pick: (item: Sample) => number) => samples.reduce((total, item) => total + pick(item), 0);
  const ops = sum((item) => item.result.ops);
  const elapsedMs = sum((item) => item.result.elapsedMs);
  const perOp = (total: number) => (ops === 0 ? Number.NaN : total / ops);
  const cpuUs = sum(
    (item) => item.after.cpu.user + item.after.cpu.system - item.before.cpu.user - item.before.cpu.system,
  );
  const extras: Record<string, number[]> = {};
  for (const item of samples) {
    for (const [name, values] of Object.entries(item.result.extras))
      extras[name] = [...(extras[name] ?? []), ...values];
  }
  const series: Figures['series'] = {};
  for (const [name, values] of Object.entries(extras)) series[name] = summarize(values);
  const figures: Figures = {
    ops,
    errors: sum((item) => item.result.errors),
    errorSamples: samples.flatMap((item) => item.result.errorSamples).slice(0, 5),
    durationMs: elapsedMs,
    opsPerSec: elapsedMs > 0 ? (ops / elapsedMs) * 1000 : Number.NaN,
    latencyMs: summarize(samples.flatMap((item) => item.result.latencies)),
    cpuMsPerOp: perOp(cpuUs / 1000),
    sqlPerOp:
      target.mode === 'real' ? perOp(sum((item) => item.after.statements - item.before.statements)) : null,
    series,
    values: {},
  };
  if (ops > 0) {
    figures.values.loadgenCpuMsPerOp = perOp(
      sum((item) => item.elsewhereAfter.loadgenMs - item.elsewhereBefore.loadgenMs),
    );
    figures.values.llmCpuMsPerOp = perOp(
      sum((item) => item.elsewhereAfter.llmMs - item.elsewhereBefore.llmMs),
    );
    if (
      samples.every(
        (item) => item.elsewhereBefore.postgresMs !== null && item.elsewhereAfter.postgresMs !== null,
      )
    ) {
      figures.values.postgresCpuMsPerOp = perOp(
        sum((item) => (item.elsewhereAfter.postgresMs ?? 0) - (item.elsewhereBefore.postgresMs ?? 0)),
      );
    }
  }
  return figures;
}

/** A row's identity. */
export interface RowId {
  id: string;
  scenario: ScenarioName;
  label: string;
}

/** Measures the same operation on every target and returns its row. */
export async function measureRow(
  targets: ServerTarget[],
  row: RowId,
  measureOne: (target: ServerTarget) => Promise<Figures>,
): Promise<ResultRow> {
  const figures: Partial<Record<ServerTarget['mode'], Figures>> = {};
  for (const target of targets) figures[target.mode] = await measureOne(target);
  return toRow(row, figures.real ?? null, figures.ceiling ?? null, figures.bare ?? null);
}

/** A target prepared for an interleaved measurement: its load, and what to release afterwards. */
export interface PreparedLoad {
  run: RunLoad;
  release?: () => Promise<void>;
}

/**
 * Measures an operation on every target in `rounds` alternating windows (real, ceiling, real,
 * ceiling…) and merges each target's windows, so slow drifts of the machine hit both alike.
 */
export async function measureInterleaved(
  targets: ServerTarget[],
  row: RowId,
  rounds: number,
  prepare: (target: ServerTarget) => Promise<PreparedLoad>,
): Promise<ResultRow> {
  const prepared = new Map<ServerTarget, PreparedLoad>();
  try {
    for (const target of targets) prepared.set(target, await prepare(target));
    const samples = new Map<ServerTarget, Sample[]>(targets.map((target) => [target, []]));
    for (let round = 0; round < rounds; round += 1) {
      for (const target of targets)
        samples.get(target)!.push(await sample(target, prepared.get(target)!.run));
    }
    const figuresOf = (mode: ServerTarget['mode']) => {
      const target = targets.find((item) => item.mode === mode);
      return target ? toFigures(target, samples.get(target)!) : null;
    };
    return toRow(row, figuresOf('real'), figuresOf('ceiling'), figuresOf('bare'));
  } finally {
    for (const load of prepared.values()) await load.release?.();
  }
}

/** A result row; each ratio is real throughput over that reference's throughput. */
export function toRow(
  row: RowId,
  real: Figures | null,
  ceiling: Figures | null,
  bare: Figures | null = null,
): ResultRow {
  const ratio = (reference: Figures | null) =>
    real && reference && reference.opsPerSec > 0 ? real.opsPerSec / reference.opsPerSec : null;
  return { ...row, real, ceiling, ceilingRatio: ratio(ceiling), bare, bareRatio: ratio(bare) };
}
