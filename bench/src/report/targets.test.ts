import { describe, expect, it } from 'vitest';
import type { Figures, ResultRow } from '../scenarios/types';
import { evaluateTargets } from './targets';

function figures(p99: number, cpuMsPerOp: number, values: Record<string, number> = {}): Figures {
  return {
    ops: 100,
    errors: 0,
    errorSamples: [],
    durationMs: 1000,
    opsPerSec: 100,
    latencyMs: { count: 100, mean: p99 / 2, p50: p99 / 2, p95: p99, p99, max: p99 },
    cpuMsPerOp,
    sqlPerOp: 2,
    series: {},
    values,
  };
}

function row(id: string, real: Figures, ceiling: Figures): ResultRow {
  return {
    id,
    scenario: 'realistic-llm',
    label: id,
    real,
    ceiling,
    ceilingRatio: 1,
    bare: null,
    bareRatio: null,
  };
}

const realisticVerdict = (rows: ResultRow[]) =>
  evaluateTargets(rows).find((verdict) => verdict.id === 'realistic-p99');

describe('evaluateTargets: realistic LLM', () => {
  const llm = { llmReplyMsP50: 125, llmLoadedReplyMsP99: 150 };

  it('passes when the worst p99 is within 1.3× of the LLM reply time', () => {
    const verdict = realisticVerdict([
      row('realistic-llm.ws', figures(160, 2, { ...llm, clients: 64 }), figures(150, 2)),
      row('realistic-llm.rest', figures(150, 2, { ...llm, clients: 64 }), figures(140, 2)),
    ]);

    expect(verdict?.pass).toBe(true);
    expect(verdict?.measured).toMatch(/^1\.28× /);
  });

  it('fails on the worse transport and states the CPU the clients ask for', () => {
    // 64 clients at 125 ms ask for 512 turns/s; 2 + 1 + 0.5 + 0.5 = 4 ms per turn is 2.05 cores.
    const ws = figures(250, 2, {
      ...llm,
      clients: 64,
      postgresCpuMsPerOp: 1,
      llmCpuMsPerOp: 0.5,
      loadgenCpuMsPerOp: 0.5,
    });
    const verdict = realisticVerdict([
      row('realistic-llm.ws', ws, figures(240, 2)),
      row('realistic-llm.rest', figures(200, 2, llm), figures(190, 2)),
    ]);

    expect(verdict?.pass).toBe(false);
    expect(verdict?.measured).toMatch(/^2\.00× /);
    expect(verdict?.measured).toContain('LLM alone under the same client load p99 150.0 ms = 1.20×');
    expect(verdict?.measured).toContain(
      "ask for 512 WS turns/s, which at 4.00 ms of CPU per turn (all processes) needs 2.05 cores, the server's one thread alone 1.02",
    );
  });

  it('is not evaluated when a row is missing', () => {
    const verdict = realisticVerdict([row('realistic-llm.ws', figures(160, 2, llm), figures(150, 2))]);

    expect(verdict).toMatchObject({ pass: null, measured: 'not measured in this run' });
  });
});

describe('evaluateTargets: message pages at any history length', () => {
  const pages = (shortSql: number, longSql: number, longCpu = 1) =>
    evaluateTargets([
      row('long-session.page-short', { ...figures(10, 1), sqlPerOp: shortSql }, figures(5, 1)),
      row('long-session.page-long', { ...figures(10, longCpu), sqlPerOp: longSql }, figures(5, 1)),
    ]).find((verdict) => verdict.id === 'page-cost-history');

  it('counts the same whole number of statements as the same SQL, whatever the windows add', () => {
    expect(pages(2.9, 3.01)?.pass).toBe(true);
  });

  it('fails on one more statement per page, or on CPU that grows with the history', () => {
    expect(pages(3, 4)?.pass).toBe(false);
    expect(pages(3, 3, 1.3)?.pass).toBe(false);
  });
});
