import { performance } from 'node:perf_hooks';
import { runBatch, runClosedLoop } from '../load/run-load';
import type { BenchSizes } from '../sizes';
import { measure, measureRow } from './_measure';
import { type BenchSpace, inParallel, prepareSpaces, restTurn } from './_setup';
import type { Figures, ResultRow, Scenario, ScenarioContext, ServerTarget } from './types';

const LENGTHS = ['short', 'medium', 'long'] as const;
type HistoryLength = (typeof LENGTHS)[number];
type Histories = Record<HistoryLength, BenchSpace[]>;

/** Every page cursor of a session's messages (`null` = the first page), by walking them once. */
async function pageCursors(
  target: ServerTarget,
  space: BenchSpace,
  pageSize: number,
): Promise<(string | null)[]> {
  const cursors: (string | null)[] = [null];
  for (;;) {
    const cursor = cursors.at(-1);
    const response = await target.rest.expect(
      200,
      'GET',
      messagesPath(space, pageSize, cursor ?? null),
      target.apiKey,
    );
    const next = response.headers['x-next-cursor'];
    if (typeof next !== 'string' || next === '') return cursors;
    cursors.push(next);
  }
}

function messagesPath(space: BenchSpace, pageSize: number, cursor: string | null): string {
  const after = cursor === null ? '' : `&after=${encodeURIComponent(cursor)}`;
  return `/spaces/${space.spaceId}/sessions/${space.rootId}/messages?limit=${pageSize}${after}`;
}

function historyTurns(sizes: BenchSizes, length: HistoryLength): number {
  if (length === 'short') return sizes.shortHistoryTurns;
  return length === 'medium' ? sizes.mediumHistoryTurns : sizes.longHistoryTurns;
}

/** Creates the short, medium and long sessions of a target and seeds their histories through storage. */
async function prepareHistories(ctx: ScenarioContext, target: ServerTarget): Promise<Histories> {
  const { sizes } = ctx;
  const histories: Histories = {
    short: await prepareSpaces(target, sizes.shortSessions, 'history-short'),
    medium: await prepareSpaces(target, sizes.longSessions, 'history-medium'),
    long: await prepareSpaces(target, sizes.longSessions, 'history-long'),
  };
  const startedAt = performance.now();
  const seeds = LENGTHS.flatMap((length) =>
    histories[length].map((space) => ({
      spaceId: space.spaceId,
      sessionId: space.rootId,
      turns: historyTurns(sizes, length),
    })),
  );
  await target.seed(seeds);
  const seededTurns = seeds.reduce((sum, seed) => sum + seed.turns, 0);
  ctx.log(`  ${target.mode}: seeded ${seededTurns} turns in ${Math.round(performance.now() - startedAt)} ms`);
  // One unmeasured turn per session: agents built, code paths warm.
  await inParallel(Object.values(histories).flat(), (space) => restTurn(target, space));
  return histories;
}

/** Turns spread over `sessions`, with the prompt size the fake LLM received per turn. */
async function measureTurns(
  ctx: ScenarioContext,
  target: ServerTarget,
  sessions: BenchSpace[],
  concurrency: number,
): Promise<Figures> {
  await ctx.llm.reset();
  const figures = await measure(target, (hooks) =>
    runBatch({
      ...hooks,
      count: ctx.sizes.historyTurnOps,
      concurrency,
      op: async (index) => {
        await restTurn(target, sessions[index % sessions.length]!);
        return undefined;
      },
    }),
  );
  const { zero } = await ctx.llm.counters();
  if (zero.requests > 0) {
    figures.values.promptMessagesPerTurn = zero.promptMessages / zero.requests;
    figures.values.promptKcharsPerTurn = zero.promptChars / zero.requests / 1000;
  }
  return figures;
}

/** Random pages of one session's messages, read by every client. */
async function measurePages(ctx: ScenarioContext, target: ServerTarget, space: BenchSpace): Promise<Figures> {
  const { sizes } = ctx;
  const cursors = await pageCursors(target, space, sizes.pageSize);
  const figures = await measure(target, (hooks) =>
    runClosedLoop({
      ...hooks,
      clients: sizes.clients,
      warmupMs: sizes.warmupMs / 2,
      durationMs: sizes.pageWindowMs,
      op: async () => {
        const cursor = cursors[Math.floor(Math.random() * cursors.length)] ?? null;
        const response = await target.rest.expect<unknown[]>(
          200,
          'GET',
          messagesPath(space, sizes.pageSize, cursor),
          target.apiKey,
        );
        if (response.body.length === 0) throw new Error('empty page');
        return undefined;
      },
    }),
  );
  figures.values.pages = cursors.length;
  return figures;
}

/**
 * Turn cost at a short, a medium (past the context window) and a long history, and message-page
 * cost at the short and the long one. Histories are seeded through the
 * server's own storage (`commitTurn`, one turn per call; then `ANALYZE`, as autovacuum would do
 * soon after such a load), then real turns are measured on top, spread over several sessions so
 * each history grows by a few percent at most.
 */
export const longSessionScenario: Scenario = {
  name: 'long-session',
  description: 'turn cost and message-page cost on sessions with a short, a medium and a long history',
  async run(ctx) {
    const { sizes, targets } = ctx;
    const histories = new Map<ServerTarget, Histories>();
    for (const target of targets) histories.set(target, await prepareHistories(ctx, target));
    const of = (target: ServerTarget) => histories.get(target)!;
    const rows: ResultRow[] = [];
    // The same concurrency at every length, so only the history differs.
    const concurrency = Math.min(sizes.clients, sizes.shortSessions, sizes.longSessions);
    for (const length of LENGTHS) {
      const turns = historyTurns(sizes, length);
      rows.push(
        await measureRow(
          targets,
          {
            id: `long-session.turn-${length}`,
            scenario: 'long-session',
            label: `REST turn at ${turns} turns of history`,
          },
          (target) => measureTurns(ctx, target, of(target)[length], concurrency),
        ),
      );
    }
    for (const length of ['short', 'long'] as const) {
      const turns = historyTurns(sizes, length);
      rows.push(
        await measureRow(
          targets,
          {
            id: `long-session.page-${length}`,
            scenario: 'long-session',
            label: `messages page (${sizes.pageSize}) at ${turns} turns of history`,
          },
          (target) => measurePages(ctx, target, of(target)[length][0]!),
        ),
      );
    }
    return rows;
  },
};
