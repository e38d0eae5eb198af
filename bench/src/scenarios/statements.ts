import { performance } from 'node:perf_hooks';
import { BenchSocket } from '../load/bench-socket';
import { toFigures, toRow } from './_measure';
import {
  type BenchSpace,
  createSpace,
  inParallel,
  prepareSpaces,
  restTurn,
  rootOf,
  turnInput,
} from './_setup';
import { fork, readTree } from './forks';
import type { Figures, ResultRow, Scenario, ScenarioContext, ServerTarget } from './types';

/** One operation of the statements scenario: `prepare` runs uncounted, the action it returns is counted. */
interface CountedOp {
  id: string;
  label: string;
  /** Skips the warm-up call (the operation is cold by construction). */
  cold?: boolean;
  prepare(target: ServerTarget): Promise<() => Promise<void>>;
}

/** Runs one operation `samples` times, one at a time, counting the statements of each exactly. */
async function countEach(target: ServerTarget, op: CountedOp, samples: number): Promise<Figures> {
  if (!op.cold) await (await op.prepare(target))();
  const counts: number[] = [];
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  const [first, elsewhereFirst] = await Promise.all([target.stats(), target.cpuElsewhere()]);
  let cpuUs = 0;
  let sqlTrace: string[] | undefined;
  for (let sample = 0; sample < samples; sample += 1) {
    // The texts of the statements are kept for the sample that made the most, for the report
    // (a sample that refreshed the API-key cache shows that lookup).
    const traced = target.mode === 'real';
    try {
      const action = await op.prepare(target);
      if (traced) await target.trace(true);
      const before = await target.stats();
      const startedAt = performance.now();
      await action();
      latencies.push(performance.now() - startedAt);
      const after = await target.stats();
      if (traced) {
        const texts = await target.trace(false);
        if (!sqlTrace || texts.length > sqlTrace.length) sqlTrace = texts;
      }
      counts.push(after.statements - before.statements);
      cpuUs += after.cpu.user + after.cpu.system - (before.cpu.user + before.cpu.system);
    } catch (error) {
      errors += 1;
      if (errorSamples.length < 5) errorSamples.push(error instanceof Error ? error.message : String(error));
    }
  }
  const [last, elsewhereLast] = await Promise.all([target.stats(), target.cpuElsewhere()]);
  const elapsedMs = latencies.reduce((sum, value) => sum + value, 0);
  const figures = toFigures(target, [
    {
      result: { ops: counts.length, errors, errorSamples, elapsedMs, latencies, extras: {} },
      before: first,
      after: last,
      elsewhereBefore: elsewhereFirst,
      elsewhereAfter: elsewhereLast,
    },
  ]);
  // Only the counted actions: the preparation between them is not the operation's cost.
  figures.cpuMsPerOp = counts.length === 0 ? Number.NaN : cpuUs / 1000 / counts.length;
  if (target.mode === 'real') {
    figures.sqlPerOp =
      counts.length === 0 ? Number.NaN : counts.reduce((sum, value) => sum + value, 0) / counts.length;
    figures.values.sqlMin = Math.min(...counts);
    figures.values.sqlMax = Math.max(...counts);
    figures.values.sqlMedian = [...counts].sort((a, b) => a - b)[Math.floor((counts.length - 1) / 2)]!;
    if (sqlTrace) figures.sqlTrace = sqlTrace;
  }
  return figures;
}

interface Fixture {
  turns: BenchSpace;
  socket: BenchSocket;
  tree: BenchSpace;
  sockets: BenchSocket[];
}

async function prepareFixture(ctx: ScenarioContext, target: ServerTarget): Promise<Fixture> {
  const [turns, streams, tree] = await prepareSpaces(target, 3, 'sql');
  const socket = await BenchSocket.connect(target.wsUrl, streams!.spaceId, target.apiKey);
  await socket.enter(streams!.rootId);
  await inParallel(
    Array.from({ length: ctx.sizes.wideForks }, (_, index) => index),
    (index) => fork(target, tree!.spaceId, tree!.rootId, `node ${index}`),
  );
  return { turns: turns!, socket, tree: tree!, sockets: [] };
}

function operations(ctx: ScenarioContext, fixture: (target: ServerTarget) => Fixture): CountedOp[] {
  const { pageSize, wideForks } = ctx.sizes;
  const nodes = wideForks + 1;
  const get = (target: ServerTarget, path: string) => async () => {
    await target.rest.expect(200, 'GET', path, target.apiKey);
  };
  return [
    {
      id: 'statements.rest-turn',
      label: 'warm REST turn (auth included)',
      prepare: async (target) => () => restTurn(target, fixture(target).turns),
    },
    {
      id: 'statements.ws-stream',
      label: 'warm WS streamed turn',
      prepare: async (target) => async () => {
        await fixture(target).socket.streamTurn(turnInput());
      },
    },
    {
      id: 'statements.ws-message',
      label: 'warm WS message turn',
      prepare: async (target) => () => fixture(target).socket.messageTurn(turnInput()),
    },
    {
      id: 'statements.create-space',
      label: 'create space',
      prepare: async (target) => async () => {
        await createSpace(target, 'sql create');
      },
    },
    {
      id: 'statements.fork',
      label: 'fork',
      prepare: async (target) => async () => {
        const { spaceId, rootId } = fixture(target).turns;
        await fork(target, spaceId, rootId, 'sql fork');
      },
    },
    {
      id: 'statements.tree-read',
      label: `tree read (${nodes} nodes)`,
      prepare: async (target) => () => readTree(target, fixture(target).tree.spaceId, nodes),
    },
    {
      id: 'statements.session-list',
      label: `session list (${nodes} sessions)`,
      prepare: async (target) => get(target, `/spaces/${fixture(target).tree.spaceId}/sessions`),
    },
    {
      id: 'statements.get-session',
      label: 'get one session',
      prepare: async (target) => {
        const { spaceId, rootId } = fixture(target).turns;
        return get(target, `/spaces/${spaceId}/sessions/${rootId}`);
      },
    },
    {
      id: 'statements.messages-page',
      label: `messages page (${pageSize})`,
      prepare: async (target) => {
        const { spaceId, rootId } = fixture(target).turns;
        return get(target, `/spaces/${spaceId}/sessions/${rootId}/messages?limit=${pageSize}`);
      },
    },
    {
      id: 'statements.ws-connect',
      label: 'WS connect (upgrade, warm key and space)',
      prepare: async (target) => async () => {
        const { sockets, turns } = fixture(target);
        sockets.push(await BenchSocket.connect(target.wsUrl, turns.spaceId, target.apiKey));
      },
    },
    {
      id: 'statements.first-touch',
      label: 'first touch: turn on a cold space',
      cold: true,
      prepare: async (target) => {
        const spaceId = await createSpace(target, 'sql cold');
        const space = { spaceId, rootId: await rootOf(target, spaceId) };
        await target.evict([spaceId]);
        return () => restTurn(target, space);
      },
    },
  ];
}

/** SQL round trips of each operation, counted one operation at a time by the server's pool. */
export const statementsScenario: Scenario = {
  name: 'statements',
  description: 'exact SQL round trips of each operation, one at a time (read from the server pool)',
  async run(ctx) {
    const fixtures = new Map<ServerTarget, Fixture>();
    for (const target of ctx.targets) fixtures.set(target, await prepareFixture(ctx, target));
    try {
      const rows: ResultRow[] = [];
      for (const op of operations(ctx, (target) => fixtures.get(target)!)) {
        const figures: Partial<Record<ServerTarget['mode'], Figures>> = {};
        for (const target of ctx.targets)
          figures[target.mode] = await countEach(target, op, ctx.sizes.statementSamples);
        rows.push(
          toRow(
            { id: op.id, scenario: 'statements', label: op.label },
            figures.real ?? null,
            figures.ceiling ?? null,
          ),
        );
      }
      return rows;
    } finally {
      for (const fixture of fixtures.values()) {
        await Promise.all([fixture.socket, ...fixture.sockets].map((socket) => socket.close()));
      }
    }
  },
};
