import type { ResultRow, ScenarioName } from '../scenarios/types';
import type { BenchSizes, LlmSettings } from '../sizes';
import type { MachineInfo } from './machine';
import type { TargetVerdict } from './targets';

/** Everything one run measured: what `bench/results/latest.json` holds. */
export interface BenchReport {
  /** Format version of this file. */
  version: 1;
  kind: 'full' | 'smoke';
  startedAt: string;
  durationMs: number;
  machine: MachineInfo;
  postgres: { source: 'embedded' | 'env'; version: string; settings: Record<string, string> };
  /**
   * Share of the machine's CPU capacity that processes outside the run used while the scenarios
   * ran (0.05 = 5 %); anything but a small figure means the results are disturbed. `null` when it
   * cannot be observed (no `/proc`, or PostgreSQL out of sight).
   */
  otherCpuShare: number | null;
  sizes: BenchSizes;
  llm: LlmSettings;
  /** The scenarios that ran, in order. */
  scenarios: ScenarioName[];
  rows: ResultRow[];
  targets: TargetVerdict[];
}
