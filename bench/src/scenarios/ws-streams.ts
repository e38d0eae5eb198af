import { BenchSocket } from '../load/bench-socket';
import { runClosedLoop } from '../load/run-load';
import { measureInterleaved } from './_measure';
import { inParallel, prepareSpaces, turnInput } from './_setup';
import type { Scenario } from './types';

/** WebSocket streamed turns: one socket per space, each entered in its root; first delta and full turn. */
export const wsStreamsScenario: Scenario = {
  name: 'ws-streams',
  description: 'session.stream in closed loops, one socket per space: time to first delta and to stream.end',
  async run({ sizes, targets }) {
    const { clients } = sizes;
    const row = await measureInterleaved(
      targets,
      {
        id: 'ws-streams.spread',
        scenario: 'ws-streams',
        label: `WS streamed turn, ${clients} clients on ${clients} spaces`,
      },
      sizes.turnRounds,
      async (target) => {
        const spaces = await prepareSpaces(target, clients, 'ws');
        const sockets = await inParallel(spaces, async (space) => {
          const socket = await BenchSocket.connect(target.wsUrl, space.spaceId, target.apiKey);
          await socket.enter(space.rootId);
          return socket;
        });
        return {
          run: (hooks) =>
            runClosedLoop({
              ...hooks,
              clients,
              warmupMs: sizes.warmupMs,
              durationMs: sizes.turnWindowMs,
              op: async (client) => {
                const timing = await sockets[client]!.streamTurn(turnInput());
                return { firstDeltaMs: timing.firstDeltaMs };
              },
            }),
          release: async () => {
            await Promise.all(sockets.map((socket) => socket.close()));
          },
        };
      },
    );
    return [row];
  },
};
