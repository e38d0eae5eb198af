import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from './report/bench-report';
import { TARGETS } from './report/targets';
import { runBench } from './run-bench';
import { SCENARIO_NAMES } from './scenarios/types';

// Every row the scenarios produce; a renamed or lost row must fail here, not silently skip a target.
const EXPECTED_ROWS = [
  'rest-turns.spread',
  'rest-turns.one-session',
  'ws-streams.spread',
  'ws-streams.single',
  'ws-streams.memory',
  'forks.wide',
  'forks.deep',
  'forks.tree-read',
  'long-session.turn-short',
  'long-session.turn-medium',
  'long-session.turn-long',
  'long-session.page-short',
  'long-session.page-long',
  'memory-work.consolidate-short',
  'memory-work.consolidate-long',
  'memory-work.integrate-wide',
  'cold-spaces.create',
  'cold-spaces.first-touch',
  'cold-spaces.warm',
  'idle-sockets.open',
  'statements.rest-turn',
  'statements.ws-stream',
  'statements.ws-message',
  'statements.create-space',
  'statements.fork',
  'statements.tree-read',
  'statements.session-list',
  'statements.get-session',
  'statements.messages-page',
  'statements.ws-connect',
  'statements.first-touch',
  'realistic-llm.ws',
  'realistic-llm.rest',
];

// The rows that also measure the bare reference server (the turn scenarios).
const BARE_ROWS = [
  'rest-turns.spread',
  'rest-turns.one-session',
  'ws-streams.spread',
  'ws-streams.single',
  'ws-streams.memory',
];

// Speed is never asserted here: only that the smoke run completes and reports everything.
describe('runBench', () => {
  let db: TestDatabase;
  let dir: string;
  let report: BenchReport;
  let written: BenchReport;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(join(tmpdir(), 'stello-bench-test-'));
    const outFile = join(dir, 'smoke.json');
    report = await runBench({ smoke: true, databaseUrl: db.url, outFile });
    written = JSON.parse(await readFile(outFile, 'utf8')) as BenchReport;
  }, 240_000);

  afterAll(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs every scenario and reports every row on the real server and the ceiling when smoke-testing', () => {
    expect(written.kind).toBe('smoke');
    expect(written.scenarios).toEqual([...SCENARIO_NAMES]);
    expect(written.rows.map((row) => row.id)).toEqual(EXPECTED_ROWS);
    for (const row of written.rows) {
      expect(row.real, row.id).not.toBeNull();
      expect(row.ceiling, row.id).not.toBeNull();
      expect(row.real!.ops, row.id).toBeGreaterThan(0);
      expect(row.ceiling!.ops, row.id).toBeGreaterThan(0);
    }
  });

  it('measures the bare reference on the turn rows only, with its first delta on streams', () => {
    for (const row of written.rows) {
      if (!BARE_ROWS.includes(row.id)) {
        expect(row.bare, row.id).toBeNull();
        continue;
      }
      expect(row.bare!.ops, row.id).toBeGreaterThan(0);
      expect(row.bareRatio, row.id).toBeGreaterThan(0);
      expect(row.bare!.sqlPerOp, row.id).toBeNull();
    }
    const stream = written.rows.find((row) => row.id === 'ws-streams.spread')!;
    expect(stream.bare!.series.firstDeltaMs?.p50).toBeGreaterThan(0);
  });

  it('reports no failed operation when the servers are healthy', () => {
    const failures = written.rows.flatMap((row) =>
      [row.real, row.ceiling, row.bare].flatMap((figures) =>
        figures && figures.errors > 0 ? [`${row.id}: ${figures.errorSamples[0]}`] : [],
      ),
    );
    expect(failures).toEqual([]);
  });

  it('measures SQL statements on the real server and none on the ceiling', () => {
    for (const row of written.rows) {
      expect(Number.isFinite(row.real!.sqlPerOp), row.id).toBe(true);
      expect(row.ceiling!.sqlPerOp, row.id).toBeNull();
    }
    const turn = written.rows.find((row) => row.id === 'statements.rest-turn')!;
    expect(turn.real!.sqlPerOp).toBeGreaterThan(0);
    expect(turn.real!.sqlTrace?.length).toBe(turn.real!.values.sqlMax);
    expect(turn.real!.values.sqlMedian).toBeGreaterThan(0);
  });

  it('evaluates every target of the issue with a measured figure', () => {
    expect(written.targets.map((target) => target.id)).toEqual(TARGETS.map((target) => target.id));
    for (const target of written.targets) expect(target.pass, target.id).not.toBeNull();
  });

  it('writes the same report it returns', () => {
    expect(written).toEqual(JSON.parse(JSON.stringify(report)));
  });
});
