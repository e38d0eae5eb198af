import { flush, gate } from '@internal/testing/scripted-llm';
import { describe, expect, it, vi } from 'vitest';
import type { AgentErrorEvent } from '../hooks';
import type { MemorySchedulerOptions } from './scheduler';
import { MemoryScheduler } from './scheduler';

function build(overrides: Partial<MemorySchedulerOptions> = {}) {
  const errors: AgentErrorEvent[] = [];
  const consolidate = vi.fn<MemorySchedulerOptions['consolidate']>(
    overrides.consolidate ?? (async (id) => `memory of ${id}`),
  );
  const integrate = vi.fn<MemorySchedulerOptions['integrate']>(
    overrides.integrate ?? (async () => ({ synthesis: 's', insights: [] })),
  );
  const scheduler = new MemoryScheduler({
    ...overrides,
    consolidate,
    integrate,
    report: (event) => errors.push(event),
  });
  return { scheduler, consolidate, integrate, errors };
}

describe('MemoryScheduler', () => {
  it('consolidates when the turn count is a multiple of N', async () => {
    const { scheduler, consolidate } = build({ consolidateEveryNTurns: 3 });

    for (let turn = 1; turn <= 7; turn++) scheduler.afterTurn('s', turn);
    await scheduler.idle();

    expect(consolidate).toHaveBeenCalledTimes(2);
  });

  it('uses 6 turns by default and 0 disables', async () => {
    const byDefault = build();
    const disabled = build({ consolidateEveryNTurns: 0 });

    for (let turn = 1; turn <= 12; turn++) {
      byDefault.scheduler.afterTurn('s', turn);
      disabled.scheduler.afterTurn('s', turn);
    }
    await Promise.all([byDefault.scheduler.idle(), disabled.scheduler.idle()]);

    expect(byDefault.consolidate).toHaveBeenCalledTimes(2);
    expect(disabled.consolidate).not.toHaveBeenCalled();
  });

  it('coalesces requests that arrive while a consolidation runs into one rerun', async () => {
    const release = gate();
    let running = 0;
    let maxRunning = 0;
    const { scheduler, consolidate } = build({
      consolidate: async () => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await release.promise;
        running -= 1;
        return 'm';
      },
    });

    for (let i = 0; i < 10; i++) scheduler.requestConsolidation('s');
    scheduler.requestConsolidation('other');
    await flush();
    release.open();
    await scheduler.idle();

    expect(maxRunning).toBe(2);
    expect(consolidate.mock.calls.filter(([id]) => id === 's')).toHaveLength(2);
    expect(consolidate.mock.calls.filter(([id]) => id === 'other')).toHaveLength(1);
  });

  it('integrates once after concurrent consolidations settle', async () => {
    const order: string[] = [];
    const { scheduler, integrate } = build({
      consolidate: async (id) => {
        await flush();
        order.push(`consolidate ${id}`);
        return 'm';
      },
      integrate: async () => {
        order.push('integrate');
        return { synthesis: 's', insights: [] };
      },
    });

    scheduler.requestConsolidation('a');
    scheduler.requestConsolidation('b');
    await scheduler.idle();

    expect(integrate).toHaveBeenCalledTimes(1);
    expect(order.at(-1)).toBe('integrate');
  });

  it('does not integrate when no consolidation produced a memory', async () => {
    const { scheduler, integrate } = build({ consolidate: async () => null });

    scheduler.requestConsolidation('a');
    await scheduler.idle();

    expect(integrate).not.toHaveBeenCalled();
  });

  it('reports background failures with their phase and keeps working', async () => {
    const { scheduler, errors, consolidate } = build({
      consolidate: async (id) => {
        if (id === 'bad') throw new Error('consolidation failed');
        return 'm';
      },
      integrate: async () => {
        throw new Error('integration failed');
      },
    });

    scheduler.requestConsolidation('bad');
    scheduler.requestConsolidation('good');
    await scheduler.idle();

    expect(consolidate).toHaveBeenCalledTimes(2);
    expect(errors.map((event) => [event.phase, event.sessionId, (event.error as Error).message])).toEqual([
      ['consolidate', 'bad', 'consolidation failed'],
      ['integrate', undefined, 'integration failed'],
    ]);
  });

  it('passes force to the run that serves an explicit request', async () => {
    const release = gate();
    const forces: boolean[] = [];
    const { scheduler } = build({
      consolidate: async (_id, force) => {
        forces.push(force);
        await release.promise;
        return 'm';
      },
      integrateAfterConsolidate: false,
    });

    scheduler.requestConsolidation('s');
    await flush();
    const explicit = scheduler.consolidate('s', { force: true });
    scheduler.requestConsolidation('s');
    release.open();

    expect(await explicit).toBe('m');
    await scheduler.idle();
    expect(forces).toEqual([false, true]);
  });

  it('rejects explicit calls with the failure instead of reporting it', async () => {
    const { scheduler, errors } = build({
      integrate: async () => {
        throw new Error('no');
      },
    });

    await expect(scheduler.integrate({ force: true })).rejects.toThrow('no');
    await scheduler.idle();

    expect(errors).toEqual([]);
  });

  it('ignores background requests once closed and is not busy when idle', async () => {
    const { scheduler, consolidate } = build();
    scheduler.close();

    scheduler.requestConsolidation('s');
    scheduler.onLeave('s');
    await scheduler.idle();

    expect(consolidate).not.toHaveBeenCalled();
    expect(scheduler.busy).toBe(false);
  });
});
