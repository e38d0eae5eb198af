import { runBatch } from '../load/run-load';
import { measure, toRow } from './_measure';
import { type BenchSpace, createSpace, inParallel, restTurn, rootOf } from './_setup';
import type { Figures, Scenario, ServerTarget } from './types';

/**
 * Many spaces: create them, then the first touch of each cold space (no cached agent, no cached
 * space: a turn on its root) against a second, warm turn on each.
 */
/**
 * Unmeasured first touches of other spaces, so the code of a turn and of building an agent is
 * compiled before the measurement: the target compares a cold space with a warm one, not a cold
 * process with a warm one.
 */
async function warmUpColdPath(target: ServerTarget, clients: number): Promise<void> {
  const spaceIds = await inParallel(
    Array.from({ length: clients * 4 }, (_, index) => `warm-up ${index}`),
    (label) => createSpace(target, label),
  );
  const spaces = await inParallel(spaceIds, async (spaceId) => ({
    spaceId,
    rootId: await rootOf(target, spaceId),
  }));
  for (let round = 0; round < 3; round += 1) {
    await target.evict(spaceIds);
    await inParallel(spaces, (space) => restTurn(target, space));
  }
  await target.evict(spaceIds);
}

export const coldSpacesScenario: Scenario = {
  name: 'cold-spaces',
  description: 'create N spaces, evict them, then a first (cold) and a second (warm) turn on each',
  async run({ sizes, targets }) {
    const { coldSpaces: count, clients } = sizes;
    const figures = {
      create: new Map<ServerTarget, Figures>(),
      cold: new Map<ServerTarget, Figures>(),
      warm: new Map<ServerTarget, Figures>(),
    };
    for (const target of targets) {
      const spaceIds: string[] = new Array(count);
      figures.create.set(
        target,
        await measure(target, (hooks) =>
          runBatch({
            ...hooks,
            count,
            concurrency: clients,
            op: async (index) => {
              spaceIds[index] = await createSpace(target, `cold ${index}`);
              return undefined;
            },
          }),
        ),
      );
      const spaces: BenchSpace[] = await inParallel(spaceIds, async (spaceId) => ({
        spaceId,
        rootId: await rootOf(target, spaceId),
      }));
      // Looking up the roots built every agent: drop them (and the cached spaces) again.
      await target.evict(spaceIds);
      await warmUpColdPath(target, clients);
      for (const phase of ['cold', 'warm'] as const) {
        figures[phase].set(
          target,
          await measure(target, (hooks) =>
            runBatch({
              ...hooks,
              count,
              concurrency: clients,
              op: async (index) => {
                await restTurn(target, spaces[index]!);
                return undefined;
              },
            }),
          ),
        );
      }
    }
    const row = (id: string, label: string, by: Map<ServerTarget, Figures>) => {
      const real = targets.find((target) => target.mode === 'real');
      const ceiling = targets.find((target) => target.mode === 'ceiling');
      return toRow(
        { id, scenario: 'cold-spaces', label },
        (real && by.get(real)) ?? null,
        (ceiling && by.get(ceiling)) ?? null,
      );
    };
    return [
      row('cold-spaces.create', `create space (${count}, ${clients} at once)`, figures.create),
      row('cold-spaces.first-touch', `first touch: turn on a cold space (${count})`, figures.cold),
      row('cold-spaces.warm', `warm turn on the same spaces (${count})`, figures.warm),
    ];
  },
};
