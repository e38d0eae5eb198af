import type { Figures, ResultRow } from '../scenarios/types';
import type { BenchReport } from './bench-report';

const COLUMNS = [
  'Operation',
  'ops/s',
  'p50 ms',
  'p95 ms',
  'p99 ms',
  'CPU ms/op',
  'SQL/op',
  'errors',
  'ceiling ops/s',
  'ceiling p50 ms',
  'ceiling CPU ms/op',
  '× ceiling',
  'bare ops/s',
  'bare CPU ms/op',
  '× bare',
  'notes',
] as const;

function num(value: number | null | undefined, digits: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return value.toFixed(digits);
}

/** Figures beyond the common columns, compactly. */
function notes(row: ResultRow): string {
  const parts: string[] = [];
  const pair = (
    pick: (figures: Figures) => number | undefined,
    digits: number,
    unit: string,
    name: string,
  ) => {
    const mine = row.real ? pick(row.real) : undefined;
    const theirs = row.ceiling ? pick(row.ceiling) : undefined;
    if (mine === undefined && theirs === undefined) return;
    parts.push(
      `${name} ${num(mine, digits)}${theirs === undefined ? '' : ` / ${num(theirs, digits)}`} ${unit}`,
    );
  };
  pair((figures) => figures.series.firstDeltaMs?.p50, 2, 'ms', 'first delta p50');
  const bareFirstDelta = row.bare?.series.firstDeltaMs?.p50;
  if (bareFirstDelta !== undefined) parts.push(`bare first delta p50 ${num(bareFirstDelta, 2)} ms`);
  pair((figures) => figures.values.heapKbPerConnection, 1, 'KB', 'heap/conn');
  pair((figures) => figures.values.promptMessagesPerTurn, 0, 'msgs', 'prompt');
  pair((figures) => figures.values.postgresCpuMsPerOp, 2, 'ms', 'PostgreSQL CPU/op');
  pair((figures) => figures.values.llmCpuMsPerOp, 2, 'ms', 'fake LLM CPU/op');
  pair((figures) => figures.values.loadgenCpuMsPerOp, 2, 'ms', 'load generator CPU/op');
  pair((figures) => figures.values.pages, 0, '', 'pages');
  if (row.real?.values.sqlMin !== undefined) {
    const { sqlMin, sqlMedian, sqlMax } = row.real.values;
    parts.push(`SQL min/median/max ${sqlMin}/${sqlMedian}/${sqlMax}`);
  }
  const llm = row.real?.values.llmReplyMsP50;
  if (llm !== undefined) parts.push(`LLM alone p50 ${num(llm, 1)} ms`);
  const loaded = row.real?.values.llmLoadedReplyMsP99;
  if (loaded !== undefined) parts.push(`LLM alone under the same client load p99 ${num(loaded, 1)} ms`);
  return parts.join('; ');
}

function cells(row: ResultRow): string[] {
  const real = row.real;
  const ceiling = row.ceiling;
  const bare = row.bare;
  const errors = (real?.errors ?? 0) + (ceiling?.errors ?? 0) + (bare?.errors ?? 0);
  return [
    row.label,
    num(real?.opsPerSec, 0),
    num(real?.latencyMs.p50, 2),
    num(real?.latencyMs.p95, 2),
    num(real?.latencyMs.p99, 2),
    num(real?.cpuMsPerOp, 2),
    num(real?.sqlPerOp, 2),
    String(errors),
    num(ceiling?.opsPerSec, 0),
    num(ceiling?.latencyMs.p50, 2),
    num(ceiling?.cpuMsPerOp, 2),
    num(row.ceilingRatio, 2),
    num(bare?.opsPerSec, 0),
    num(bare?.cpuMsPerOp, 2),
    num(row.bareRatio, 2),
    notes(row),
  ];
}

// Above this share of the CPU used by other processes, a run's figures are not comparable.
const DISTURBED_SHARE = 0.05;

/** A warning line when other processes used a noticeable share of the CPU during the run. */
function disturbanceWarning(report: BenchReport): string[] {
  if (report.otherCpuShare === null || report.otherCpuShare <= DISTURBED_SHARE) return [];
  const percent = (report.otherCpuShare * 100).toFixed(0);
  return [
    `WARNING: other processes used ${percent} % of the CPU during the run; these figures are disturbed.`,
  ];
}

/** The machine and database of a run, in one line. */
export function machineLine(report: BenchReport): string {
  const { machine, postgres } = report;
  const durability = `fsync ${postgres.settings.fsync ?? '?'}, synchronous_commit ${postgres.settings.synchronous_commit ?? '?'}`;
  const other =
    report.otherCpuShare === null
      ? ''
      : `; other processes used ${(report.otherCpuShare * 100).toFixed(1)} % of the CPU meanwhile`;
  return (
    `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB, ${machine.os}, Node ${machine.node}, ` +
    `PostgreSQL ${postgres.version} (${postgres.source}, ${durability})${other}`
  );
}

/** The results as a fixed-width text table, then the targets as PASS/FAIL lines. */
export function formatText(report: BenchReport): string {
  const rows = report.rows.map(cells);
  const widths = COLUMNS.map((column, index) =>
    Math.max(
      column.length,
      ...rows.map((row) => (index === COLUMNS.length - 1 ? 0 : (row[index] ?? '').length)),
    ),
  );
  const line = (values: readonly string[]) =>
    values
      .map((value, index) =>
        index === 0 || index === COLUMNS.length - 1
          ? value.padEnd(widths[index]!)
          : value.padStart(widths[index]!),
      )
      .join('  ')
      .trimEnd();
  return [
    `Machine: ${machineLine(report)}`,
    ...disturbanceWarning(report),
    '',
    line(COLUMNS),
    ...rows.map(line),
    '',
    ...formatTargets(report),
  ].join('\n');
}

/** PASS/FAIL (or SKIP) lines of the targets. */
export function formatTargets(report: BenchReport): string[] {
  return report.targets.map((target) => {
    const verdict = target.pass === null ? 'SKIP' : target.pass ? 'PASS' : 'FAIL';
    return `${verdict}  ${target.description} — ${target.measured}`;
  });
}

/** The results as Markdown, for the README: machine, table, targets. */
export function formatMarkdown(report: BenchReport): string {
  const escapePipes = (value: string) => value.replaceAll('|', '\\|');
  const header = `| ${COLUMNS.join(' | ')} |`;
  const rule = `|${COLUMNS.map((_, index) => (index === 0 || index === COLUMNS.length - 1 ? ' --- ' : ' ---: ')).join('|')}|`;
  const body = report.rows.map((row) => `| ${cells(row).map(escapePipes).join(' | ')} |`);
  const targets = report.targets.map((target) => {
    const verdict = target.pass === null ? 'SKIP' : target.pass ? '**PASS**' : '**FAIL**';
    return `- ${verdict} ${escapePipes(target.description)} — ${escapePipes(target.measured)}`;
  });
  return [
    `Run of ${report.startedAt} (${report.kind}, ${Math.round(report.durationMs / 1000)} s) on ${machineLine(report)}.`,
    ...disturbanceWarning(report).map((line) => `\n**${line}**`),
    '',
    header,
    rule,
    ...body,
    '',
    ...targets,
  ].join('\n');
}
