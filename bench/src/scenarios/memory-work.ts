import { runBatch } from '../load/run-load';
import type { BenchSizes } from '../sizes';
import { type RunLoad, type Sample, sample, toFigures, toRow } from './_measure';
import { type BenchSpace, inParallel, prepareSpaces } from './_setup';
import { fork } from './forks';
import type { Figures, ResultRow, Scenario, ScenarioContext, ServerTarget } from './types';

const LENGTHS = ['short', 'long'] as const;
type HistoryLength = (typeof LENGTHS)[number];

/** A child session with a seeded history, in its own space. */
interface MemoryChild extends BenchSpace {
  childId: string;
}

function historyTurns(sizes: BenchSizes, length: HistoryLength): number {
  return length === 'short' ? sizes.shortHistoryTurns : sizes.longHistoryTurns;
}

/** `sessions` children, each forked from a fresh space's root, with `turns` seeded turns. */
async function prepareChildren(target: ServerTarget, sessions: number, turns: number, label: string) {
  const spaces = await prepareSpaces(target, sessions, label);
  const children: MemoryChild[] = await inParallel(spaces, async (space) => ({
    ...space,
    childId: await fork(target, space.spaceId, space.rootId, `${label} child`),
  }));
  await target.seed(children.map((child) => ({ spaceId: child.spaceId, sessionId: child.childId, turns })));
  return children;
}

/** A space whose root has `count` children, each with a short history and a consolidated memory. */
async function prepareWideSpace(target: ServerTarget, count: number): Promise<BenchSpace> {
  const [space] = await prepareSpaces(target, 1, 'integration');
  const { spaceId, rootId } = space!;
  const children = await inParallel(
    Array.from({ length: count }, (_, index) => index),
    async (index): Promise<MemoryChild> => ({
      spaceId,
      rootId,
      childId: await fork(target, spaceId, rootId, `branch ${index}`),
    }),
  );
  await target.seed(children.map((child) => ({ spaceId, sessionId: child.childId, turns: 2 })));
  await inParallel(children, (child) => consolidate(target, child));
  return space!;
}

/** `count` explicit runs of one memory operation, `concurrency` at a time. */
function memoryLoad(count: number, concurrency: number, op: (index: number) => Promise<void>): RunLoad {
  return (hooks) =>
    runBatch({
      ...hooks,
      count,
      concurrency,
      op: async (index) => {
        await op(index);
        return undefined;
      },
    });
}

function consolidate(target: ServerTarget, child: MemoryChild): Promise<void> {
  const path = `/spaces/${child.spaceId}/sessions/${child.childId}/consolidate`;
  return target.rest.expect(200, 'POST', path, target.apiKey).then(() => undefined);
}

function integrate(target: ServerTarget, space: BenchSpace): Promise<void> {
  return target.rest
    .expect(200, 'POST', `/spaces/${space.spaceId}/integrate`, target.apiKey)
    .then(() => undefined);
}

/** Samples of one operation per target, with the prompt sizes the fake LLM received. */
async function sampleWithPrompts(
  ctx: ScenarioContext,
  target: ServerTarget,
  run: RunLoad,
): Promise<{ item: Sample; requests: number; chars: number }> {
  await ctx.llm.reset();
  const item = await sample(target, run);
  const { zero } = await ctx.llm.counters();
  return { item, requests: zero.requests, chars: zero.promptChars };
}

function withPrompts(figures: Figures | null, requests: number, chars: number): Figures | null {
  if (figures && requests > 0) figures.values.promptKcharsPerCall = chars / requests / 1000;
  return figures;
}

/**
 * Memory work on demand, the bounds of #12: a consolidation (`POST …/consolidate`) of a child with a
 * short and with a long history, whose cost must not grow with the history (it reads the newest
 * window, never the whole history), and an integration (`POST …/integrate`) over a root with many
 * children, whose statements and prompt must stay bounded. The fake answers memory work as a model
 * would (a summary; a JSON reply with one insight per child named).
 */
export const memoryWorkScenario: Scenario = {
  name: 'memory-work',
  description: 'consolidation at a short and a long history; integration over a root with many children',
  async run(ctx) {
    const { sizes, targets } = ctx;
    const memoryTargets = targets.filter((target) => target.mode !== 'bare');
    const children = new Map<string, MemoryChild[]>();
    const wide = new Map<ServerTarget, BenchSpace>();
    for (const target of memoryTargets) {
      for (const length of LENGTHS) {
        const label = `memory-${length}`;
        children.set(
          `${target.mode}:${length}`,
          await prepareChildren(target, sizes.memorySessions, historyTurns(sizes, length), label),
        );
      }
      wide.set(target, await prepareWideSpace(target, sizes.integrationChildren));
      ctx.log(`  ${target.mode}: memory-work spaces ready`);
    }
    const consolidations = new Map<string, { samples: Sample[]; requests: number; chars: number }>();
    const integrations = new Map<ServerTarget, { samples: Sample[]; requests: number; chars: number }>();
    for (let round = 0; round < sizes.historyRounds; round += 1) {
      for (const length of LENGTHS) {
        for (const target of memoryTargets) {
          const key = `${target.mode}:${length}`;
          const sessions = children.get(key)!;
          const measured = await sampleWithPrompts(
            ctx,
            target,
            memoryLoad(sizes.consolidationOps, Math.min(4, sessions.length), (index) =>
              consolidate(target, sessions[index % sessions.length]!),
            ),
          );
          const total = consolidations.get(key) ?? { samples: [], requests: 0, chars: 0 };
          total.samples.push(measured.item);
          total.requests += measured.requests;
          total.chars += measured.chars;
          consolidations.set(key, total);
        }
      }
      for (const target of memoryTargets) {
        const space = wide.get(target)!;
        const measured = await sampleWithPrompts(
          ctx,
          target,
          memoryLoad(sizes.integrationOps, 1, () => integrate(target, space)),
        );
        const total = integrations.get(target) ?? { samples: [], requests: 0, chars: 0 };
        total.samples.push(measured.item);
        total.requests += measured.requests;
        total.chars += measured.chars;
        integrations.set(target, total);
      }
    }
    const byMode = (mode: 'real' | 'ceiling') => memoryTargets.find((target) => target.mode === mode);
    const consolidationFigures = (mode: 'real' | 'ceiling', length: HistoryLength) => {
      const target = byMode(mode);
      const total = consolidations.get(`${mode}:${length}`);
      if (!target || !total) return null;
      return withPrompts(toFigures(target, total.samples), total.requests, total.chars);
    };
    const integrationFigures = (mode: 'real' | 'ceiling') => {
      const target = byMode(mode);
      const total = target && integrations.get(target);
      if (!target || !total) return null;
      return withPrompts(toFigures(target, total.samples), total.requests, total.chars);
    };
    const rows: ResultRow[] = LENGTHS.map((length) =>
      toRow(
        {
          id: `memory-work.consolidate-${length}`,
          scenario: 'memory-work',
          label: `consolidation at ${historyTurns(sizes, length)} turns of history`,
        },
        consolidationFigures('real', length),
        consolidationFigures('ceiling', length),
      ),
    );
    rows.push(
      toRow(
        {
          id: 'memory-work.integrate-wide',
          scenario: 'memory-work',
          label: `integration over ${sizes.integrationChildren} children`,
        },
        integrationFigures('real'),
        integrationFigures('ceiling'),
      ),
    );
    return rows;
  },
};
