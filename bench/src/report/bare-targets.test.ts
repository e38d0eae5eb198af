import { describe, expect, it } from 'vitest';
import { toRow } from '../scenarios/_measure';
import type { Figures } from '../scenarios/types';
import { evaluateTargets } from './targets';

function figures(opsPerSec: number, cpuMsPerOp: number, firstDeltaP50?: number): Figures {
  const latency = (p50: number) => ({ count: 100, mean: p50, p50, p95: p50, p99: p50, max: p50 });
  return {
    ops: 100,
    errors: 0,
    errorSamples: [],
    durationMs: 1000,
    opsPerSec,
    latencyMs: latency(10),
    cpuMsPerOp,
    sqlPerOp: null,
    series: firstDeltaP50 === undefined ? {} : { firstDeltaMs: latency(firstDeltaP50) },
    values: {},
  };
}

const rowId = (id: string) => ({ id, scenario: 'ws-streams' as const, label: id });
const verdict = (rows: ReturnType<typeof toRow>[], id: string) =>
  evaluateTargets(rows).find((item) => item.id === id);

describe('evaluateTargets: against the bare reference', () => {
  it('passes throughput and CPU within their bounds and fails them beyond', () => {
    const rest = toRow(rowId('rest-turns.spread'), figures(300, 2.4), figures(350, 2), figures(500, 1.5));
    const ws = toRow(rowId('ws-streams.spread'), figures(200, 3.3), figures(300, 2), figures(500, 0.65));

    expect(rest.bareRatio).toBeCloseTo(0.6);
    expect(verdict([rest, ws], 'bare-rest-throughput')).toMatchObject({
      pass: true,
      measured: '0.60× (300 vs 500 ops/s; CPU 2.40 vs 1.50 ms/op)',
    });
    expect(verdict([rest, ws], 'bare-rest-cpu')).toMatchObject({ pass: true });
    expect(verdict([rest, ws], 'bare-ws-throughput')).toMatchObject({
      pass: false,
      measured: '0.40× (200 vs 500 ops/s; CPU 3.30 vs 0.65 ms/op)',
    });
    expect(verdict([rest, ws], 'bare-ws-cpu')).toMatchObject({
      pass: false,
      measured: '5.08× (3.30 vs 0.65 ms/op; 200 vs 500 ops/s)',
    });
  });

  it('asks only 0.5× of the bare throughput with memory work on', () => {
    const memory = (real: number) =>
      toRow(rowId('ws-streams.memory'), figures(real, 4), figures(300, 2), figures(400, 1));

    expect(verdict([memory(200)], 'bare-ws-memory-throughput')).toMatchObject({
      pass: true,
      measured: '0.50× (200 vs 400 ops/s; CPU 4.00 vs 1.00 ms/op)',
    });
    expect(verdict([memory(160)], 'bare-ws-memory-throughput')?.pass).toBe(false);
  });

  it('judges the first delta at 8 clients and states the 1-client difference', () => {
    const spread = (mine: number) =>
      toRow(rowId('ws-streams.spread'), figures(1, 1, mine), null, figures(1, 1, 8));
    const single = toRow(rowId('ws-streams.single'), figures(1, 1, 1.5), null, figures(1, 1, 1));

    expect(verdict([spread(10), single], 'bare-first-delta')).toMatchObject({
      pass: true,
      measured: '+2.00 ms at 8 clients (10.00 vs 8.00 ms); 1 client: +0.50 ms (1.50 vs 1.00 ms)',
    });
    expect(verdict([spread(10.5)], 'bare-first-delta')).toMatchObject({
      pass: false,
      measured: '+2.50 ms at 8 clients (10.50 vs 8.00 ms)',
    });
  });

  it('is not evaluated without the bare figures, and counts its errors', () => {
    const noBare = toRow(rowId('rest-turns.spread'), figures(300, 2), figures(350, 2));
    expect(verdict([noBare], 'bare-rest-throughput')).toMatchObject({ pass: null });

    const failing = { ...figures(500, 1), errors: 3 };
    const withErrors = toRow(rowId('rest-turns.spread'), figures(300, 2), null, failing);
    expect(verdict([withErrors], 'no-errors')).toMatchObject({
      pass: false,
      measured: 'rest-turns.spread (bare): 3',
    });
  });

  it("names the server profile's top entries in a missed verdict only", () => {
    const ws = toRow(rowId('ws-streams.spread'), figures(200, 3.3), null, figures(500, 0.65));
    const rest = toRow(rowId('rest-turns.spread'), figures(400, 1), null, figures(500, 1));
    const verdicts = evaluateTargets(
      [ws, rest],
      ['writev (node:net:10) 12.0 %', 'parse (result.js:42) 8.0 %'],
    );
    const byId = (id: string) => verdicts.find((item) => item.id === id);

    expect(byId('bare-ws-throughput')?.measured).toContain(
      '; server profile top (self time): writev (node:net:10) 12.0 %, parse (result.js:42) 8.0 %',
    );
    expect(byId('bare-rest-throughput')?.measured).not.toContain('profile');
  });
});
