import { performance } from 'node:perf_hooks';
import { runBatch, runClosedLoop } from '../load/run-load';
import type { BenchSizes } from '../sizes';
import { type RunLoad, type Sample, sample, toFigures, toRow } from './_measure';
import { type BenchSpace, inParallel, prepareSpaces, restTurn } from './_setup';
import type { Figures, ResultRow, Scenario, ScenarioContext, ServerTarget } from './types';

const LENGTHS = ['short', 'medium', 'long'] as const;
type HistoryLength = (typeof LENGTHS)[number];
type Histories = Record<HistoryLength, BenchSpace[]>;
const PAGED_LENGTHS = ['short', 'long'] as const;

function historyTurns(sizes: BenchSizes, length: HistoryLength): number {
  if (length === 'short') return sizes.shortHistoryTurns;
  return length === 'medium' ? sizes.mediumHistoryTurns : sizes.longHistoryTurns;
}

function messagesPath(space: BenchSpace, pageSize: number, cursor: string | null): string {
  const after = cursor === null ? '' : `&after=${encodeURIComponent(cursor)}`;
  return `/spaces/${space.spaceId}/sessions/${space.rootId}/messages?limit=${pageSize}${after}`;
}

/** Every page cursor of a session's messages (`null` = the first page), by walking them once. */
async function pageCursors(
  target: ServerTarget,
  space: BenchSpace,
  pageSize: number,
): Promise<(string | null)[]> {
  const cursors: (string | null)[] = [null];
  for (;;) {
    const cursor = cursors.at(-1) ?? null;
    const response = await target.rest.expect(
      200,
      'GET',
      messagesPath(space, pageSize, cursor),
      target.apiKey,
    );
    const next = response.headers['x-next-cursor'];
    if (typeof next !== 'string' || next === '') return cursors;
    cursors.push(next);
  }
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

/** Turns spread over `sessions`, `concurrency` at a time. */
function turnLoad(
  ctx: ScenarioContext,
  target: ServerTarget,
  sessions: BenchSpace[],
  concurrency: number,
): RunLoad {
  return (hooks) =>
    runBatch({
      ...hooks,
      count: ctx.sizes.historyTurnOps,
      concurrency,
      op: async (index) => {
        await restTurn(target, sessions[index % sessions.length]!);
        return undefined;
      },
    });
}

/** Random pages of one session's messages, read by every client. */
function pageLoad(
  ctx: ScenarioContext,
  target: ServerTarget,
  space: BenchSpace,
  cursors: (string | null)[],
): RunLoad {
  const { sizes } = ctx;
  return (hooks) =>
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
    });
}

interface PromptTotals {
  requests: number;
  messages: number;
  chars: number;
}

/** Samples of one operation per target, plus what the fake LLM saw during them. */
class SampleBook {
  readonly #samples = new Map<string, Sample[]>();
  readonly #prompts = new Map<string, PromptTotals>();

  add(key: string, item: Sample, prompt?: PromptTotals): void {
    this.#samples.set(key, [...(this.#samples.get(key) ?? []), item]);
    if (!prompt) return;
    const total = this.#prompts.get(key) ?? { requests: 0, messages: 0, chars: 0 };
    total.requests += prompt.requests;
    total.messages += prompt.messages;
    total.chars += prompt.chars;
    this.#prompts.set(key, total);
  }

  figures(key: string, target: ServerTarget | undefined): Figures | null {
    const samples = this.#samples.get(key);
    if (!target || !samples) return null;
    const figures = toFigures(target, samples);
    const prompt = this.#prompts.get(key);
    if (prompt && prompt.requests > 0) {
      figures.values.promptMessagesPerTurn = prompt.messages / prompt.requests;
      figures.values.promptKcharsPerTurn = prompt.chars / prompt.requests / 1000;
    }
    return figures;
  }
}

/**
 * Turn cost at a short, a medium (past the context window) and a long history, and message-page
 * cost at the short and the long one. Histories are seeded through the server's own storage
 * (`commitTurn`, one turn per call; then `ANALYZE`, as autovacuum would do soon after such a
 * load). Real turns are then measured on top, spread over several sessions so each history grows
 * little, in rounds that alternate the lengths (and the servers) so drifts hit all alike.
 */
export const longSessionScenario: Scenario = {
  name: 'long-session',
  description: 'turn cost and message-page cost on sessions with a short, a medium and a long history',
  async run(ctx) {
    const { sizes, targets } = ctx;
    const histories = new Map<ServerTarget, Histories>();
    for (const target of targets) histories.set(target, await prepareHistories(ctx, target));
    const cursors = new Map<string, (string | null)[]>();
    for (const target of targets) {
      for (const length of PAGED_LENGTHS) {
        const space = histories.get(target)![length][0]!;
        cursors.set(`${target.mode}:${length}`, await pageCursors(target, space, sizes.pageSize));
      }
    }
    // The same concurrency at every length, so only the history differs.
    const concurrency = Math.min(sizes.clients, sizes.shortSessions, sizes.longSessions);
    const turns = new SampleBook();
    const pages = new SampleBook();
    for (let round = 0; round < sizes.historyRounds; round += 1) {
      for (const length of LENGTHS) {
        for (const target of targets) {
          await ctx.llm.reset();
          const item = await sample(
            target,
            turnLoad(ctx, target, histories.get(target)![length], concurrency),
          );
          const { zero } = await ctx.llm.counters();
          turns.add(`${target.mode}:${length}`, item, {
            requests: zero.requests,
            messages: zero.promptMessages,
            chars: zero.promptChars,
          });
        }
      }
      for (const length of PAGED_LENGTHS) {
        for (const target of targets) {
          const key = `${target.mode}:${length}`;
          const space = histories.get(target)![length][0]!;
          pages.add(key, await sample(target, pageLoad(ctx, target, space, cursors.get(key)!)));
        }
      }
    }
    const real = targets.find((target) => target.mode === 'real');
    const ceiling = targets.find((target) => target.mode === 'ceiling');
    const rows: ResultRow[] = LENGTHS.map((length) =>
      toRow(
        {
          id: `long-session.turn-${length}`,
          scenario: 'long-session',
          label: `REST turn at ${historyTurns(sizes, length)} turns of history`,
        },
        turns.figures(`real:${length}`, real),
        turns.figures(`ceiling:${length}`, ceiling),
      ),
    );
    for (const length of PAGED_LENGTHS) {
      const row = toRow(
        {
          id: `long-session.page-${length}`,
          scenario: 'long-session',
          label: `messages page (${sizes.pageSize}) at ${historyTurns(sizes, length)} turns of history`,
        },
        pages.figures(`real:${length}`, real),
        pages.figures(`ceiling:${length}`, ceiling),
      );
      for (const figures of [row.real, row.ceiling]) {
        if (figures) figures.values.pages = cursors.get(`real:${length}`)?.length ?? Number.NaN;
      }
      rows.push(row);
    }
    return rows;
  },
};
