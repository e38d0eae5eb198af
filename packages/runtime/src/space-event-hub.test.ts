import { InMemoryControlBus } from '@stello-ai/storage';
import { describe, expect, it } from 'vitest';
import { type DeliveredSpaceEvent, SpaceEventHub } from './space-event-hub';

const SPACE = '00000000-0000-4000-8000-000000000001';
const OTHER = '00000000-0000-4000-8000-000000000002';

function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5));
}

describe('SpaceEventHub', () => {
  it("delivers a space's events in order, numbered, and never another space's or a non-space kind", async () => {
    const bus = new InMemoryControlBus();
    const channel = bus.channel();
    await channel.start();
    const hub = new SpaceEventHub(channel);
    const received: DeliveredSpaceEvent[] = [];
    hub.subscribe(SPACE, { deliver: (event) => void received.push(event), onOverflow: () => {} });

    await channel.publish({ kind: 'turn.started', spaceId: SPACE, sessionId: 's1' });
    await channel.publish({ kind: 'turn.started', spaceId: OTHER, sessionId: 's2' });
    await channel.publish({ kind: 'turn.cancel', spaceId: SPACE, sessionId: 's1' });
    await channel.publish({ kind: 'turn.completed', spaceId: SPACE, sessionId: 's1' });
    await tick();

    expect(received).toEqual([
      { id: 1, kind: 'turn.started', spaceId: SPACE, sessionId: 's1' },
      { id: 2, kind: 'turn.completed', spaceId: SPACE, sessionId: 's1' },
    ]);
    hub.close();
    await channel.close();
  });

  it('drops a subscriber that falls maxQueued events behind, and only that one', async () => {
    const bus = new InMemoryControlBus();
    const channel = bus.channel();
    await channel.start();
    const hub = new SpaceEventHub(channel, { maxQueued: 3 });
    const overflows: string[] = [];
    // Never finishes a delivery: a client that stopped reading.
    hub.subscribe(SPACE, {
      deliver: () => new Promise(() => {}),
      onOverflow: (reason) => overflows.push(reason),
    });
    const healthy: number[] = [];
    hub.subscribe(SPACE, { deliver: (event) => void healthy.push(event.id), onOverflow: () => {} });

    for (let i = 0; i < 10; i += 1) await channel.publish({ kind: 'turn.started', spaceId: SPACE });
    await tick();

    expect(overflows).toEqual(['more than 3 space events waiting']);
    expect(healthy).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(hub.size).toBe(1);
    hub.close();
    await channel.close();
  });
});
