import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerStats } from '../infra/server-child';
import { BenchSocket } from '../load/bench-socket';
import { runBatch } from '../load/run-load';
import { measure, measureRow } from './_measure';
import { type BenchSpace, inParallel, prepareSpaces } from './_setup';
import type { Scenario, ServerTarget } from './types';

// Sockets opened at once while connecting.
const CONNECT_CONCURRENCY = 50;
// Lets the server finish its per-connection work (and the closes) before memory is read.
const SETTLE_MS = 500;
// Opened and closed once first, so lazily created server state is not charged to the measured sockets.
const WARMUP_SOCKETS = 50;

const heapBytes = (stats: ServerStats) => stats.memory.heapUsed + stats.memory.external;

async function openSockets(
  target: ServerTarget,
  spaces: BenchSpace[],
  count: number,
): Promise<BenchSocket[]> {
  return inParallel(
    Array.from({ length: count }, (_, index) => index),
    (index) => BenchSocket.connect(target.wsUrl, spaces[index % spaces.length]!.spaceId, target.apiKey),
    CONNECT_CONCURRENCY,
  );
}

const closeAll = (sockets: BenchSocket[]) =>
  inParallel(sockets, (socket) => socket.close(), CONNECT_CONCURRENCY);

/**
 * Server memory per idle WebSocket. After a full GC the heap (V8 heap + external buffers) and RSS
 * are read with N sockets open and again once they are closed: the difference is what the
 * connections held. (The increase over the reading before they opened is kept too.)
 */
export const idleSocketsScenario: Scenario = {
  name: 'idle-sockets',
  description: 'open N idle WebSockets (spread over a few spaces) and read the server memory per connection',
  async run({ sizes, targets }) {
    const count = sizes.idleSockets;
    return [
      await measureRow(
        targets,
        {
          id: 'idle-sockets.open',
          scenario: 'idle-sockets',
          label: `${count} idle WebSockets (connect, then hold)`,
        },
        async (target) => {
          const spaces = await prepareSpaces(target, sizes.clients, 'idle');
          await closeAll(await openSockets(target, spaces, WARMUP_SOCKETS));
          await sleep(SETTLE_MS);
          const before = await target.gc();
          const sockets: BenchSocket[] = [];
          try {
            const figures = await measure(target, (hooks) =>
              runBatch({
                ...hooks,
                count,
                concurrency: CONNECT_CONCURRENCY,
                op: async (index) => {
                  sockets.push(
                    await BenchSocket.connect(
                      target.wsUrl,
                      spaces[index % spaces.length]!.spaceId,
                      target.apiKey,
                    ),
                  );
                  return undefined;
                },
              }),
            );
            await sleep(SETTLE_MS);
            const open = await target.gc();
            await closeAll(sockets.splice(0));
            await sleep(SETTLE_MS);
            const closed = await target.gc();
            const perConnectionKb = (bytes: number) => bytes / count / 1024;
            figures.values.heapKbPerConnection = perConnectionKb(heapBytes(open) - heapBytes(closed));
            figures.values.rssKbPerConnection = perConnectionKb(open.memory.rss - before.memory.rss);
            figures.values.heapGrowthKbPerConnection = perConnectionKb(heapBytes(open) - heapBytes(before));
            return figures;
          } finally {
            await closeAll(sockets);
          }
        },
      ),
    ];
  },
};
