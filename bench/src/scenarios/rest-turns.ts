import { runClosedLoop } from '../load/run-load';
import { measure, measureInterleaved, measureRow } from './_measure';
import { prepareSpaces, restTurn } from './_setup';
import type { Scenario } from './types';

/** REST turns: C clients over C spaces (one root session each), and C clients on one session. */
export const restTurnsScenario: Scenario = {
  name: 'rest-turns',
  description: 'POST /turn in closed loops: one client per space, then every client on one session',
  async run({ sizes, targets }) {
    const { clients, warmupMs } = sizes;
    const spread = await measureInterleaved(
      targets,
      {
        id: 'rest-turns.spread',
        scenario: 'rest-turns',
        label: `REST turn, ${clients} clients on ${clients} spaces`,
      },
      sizes.turnRounds,
      async (target) => {
        const spaces = await prepareSpaces(target, clients, 'rest');
        return {
          run: (hooks) =>
            runClosedLoop({
              ...hooks,
              clients,
              warmupMs,
              durationMs: sizes.turnWindowMs,
              op: async (client) => {
                await restTurn(target, spaces[client % spaces.length]!);
                return undefined;
              },
            }),
        };
      },
    );
    const oneSession = await measureRow(
      targets,
      {
        id: 'rest-turns.one-session',
        scenario: 'rest-turns',
        label: `REST turn, ${clients} clients on 1 session`,
      },
      async (target) => {
        const [space] = await prepareSpaces(target, 1, 'rest-shared');
        return measure(target, (hooks) =>
          runClosedLoop({
            ...hooks,
            clients,
            warmupMs,
            durationMs: sizes.oneSessionWindowMs,
            op: async () => {
              await restTurn(target, space!);
              return undefined;
            },
          }),
        );
      },
    );
    return [spread, oneSession];
  },
};
