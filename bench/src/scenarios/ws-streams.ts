import { BenchSocket } from '../load/bench-socket';
import { runClosedLoop } from '../load/run-load';
import type { BenchSizes } from '../sizes';
import { measureInterleaved, type RowId } from './_measure';
import { inParallel, prepareSpaces, turnInput } from './_setup';
import { fork } from './forks';
import type { ResultRow, Scenario, ServerTarget } from './types';

/**
 * Streamed turns from `clients` sockets, one per space, measured in alternating rounds. On `root`
 * sessions no memory work runs; on a `child` (forked from the root) the default space config
 * consolidates the child's memory every few turns, in the background of the turns.
 */
function measureStreams(
  sizes: BenchSizes,
  targets: ServerTarget[],
  clients: number,
  row: RowId,
  session: 'root' | 'child' = 'root',
): Promise<ResultRow> {
  return measureInterleaved(targets, row, sizes.turnRounds, async (target) => {
    const spaces = await prepareSpaces(target, clients, 'ws');
    const sockets = await inParallel(spaces, async (space) => {
      const sessionId =
        session === 'root' ? space.rootId : await fork(target, space.spaceId, space.rootId, 'memory work');
      const socket = await BenchSocket.connect(target.wsUrl, space.spaceId, target.apiKey);
      await socket.enter(sessionId);
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
  });
}

/**
 * WebSocket streamed turns, one socket per space entered in its root: time to the first delta and
 * to `stream.end`, with every client busy (throughput) and with one client (the latency the
 * server adds when nothing queues for the CPU).
 */
export const wsStreamsScenario: Scenario = {
  name: 'ws-streams',
  description: 'session.stream in closed loops, one socket per space: time to first delta and to stream.end',
  async run({ sizes, targets }) {
    const { clients } = sizes;
    return [
      await measureStreams(sizes, targets, clients, {
        id: 'ws-streams.spread',
        scenario: 'ws-streams',
        label: `WS streamed turn, ${clients} clients on ${clients} spaces`,
      }),
      await measureStreams(sizes, targets, 1, {
        id: 'ws-streams.single',
        scenario: 'ws-streams',
        label: 'WS streamed turn, 1 client (no queueing)',
      }),
      await measureStreams(
        sizes,
        targets,
        clients,
        {
          id: 'ws-streams.memory',
          scenario: 'ws-streams',
          label: `WS streamed turn on child sessions, ${clients} clients (memory work on)`,
        },
        'child',
      ),
    ];
  },
};
