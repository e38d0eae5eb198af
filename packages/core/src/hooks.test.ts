import { flush } from '@internal/testing/scripted-llm';
import { describe, expect, it, vi } from 'vitest';
import type { AgentErrorEvent } from './hooks';
import { HookDispatcher } from './hooks';

describe('HookDispatcher', () => {
  it('calls a hook with its event and does not wait for it', () => {
    let resolved = false;
    const onSessionEnter = vi.fn(async () => {
      await flush();
      resolved = true;
    });
    const hooks = new HookDispatcher({ onSessionEnter });

    hooks.fire('onSessionEnter', { sessionId: 's' });

    expect(onSessionEnter).toHaveBeenCalledWith({ sessionId: 's' });
    expect(resolved).toBe(false);
  });

  it('reports sync and async hook failures to listeners and onError', async () => {
    const events: AgentErrorEvent[] = [];
    const onError = vi.fn();
    const hooks = new HookDispatcher({
      onSessionEnter: () => {
        throw new Error('sync');
      },
      onSessionFork: async () => {
        throw new Error('async');
      },
      onError,
    });
    hooks.on((event) => events.push(event));

    hooks.fire('onSessionEnter', { sessionId: 's' });
    hooks.fire('onSessionFork', { parentId: 'p', child: null as never });
    await flush();

    expect(events.map((event) => [event.phase, event.sessionId, (event.error as Error).message])).toEqual([
      ['hook:onSessionEnter', 's', 'sync'],
      ['hook:onSessionFork', 'p', 'async'],
    ]);
    expect(onError).toHaveBeenCalledTimes(2);
  });

  it('emits a failing onError once without calling it again, and survives failing listeners', async () => {
    const events: AgentErrorEvent[] = [];
    const onError = vi.fn(() => {
      throw new Error('onError broke');
    });
    const hooks = new HookDispatcher({ onError });
    hooks.on(() => {
      throw new Error('listener broke');
    });
    hooks.on((event) => events.push(event));

    hooks.report({ error: new Error('first'), phase: 'consolidate', sessionId: 's' });

    expect(onError).toHaveBeenCalledTimes(1);
    expect(events.map((event) => event.phase)).toEqual(['consolidate', 'hook:onError']);
  });

  it('notifies onError without emitting an event for failures the caller receives', () => {
    const events: AgentErrorEvent[] = [];
    const onError = vi.fn();
    const hooks = new HookDispatcher({ onError });
    hooks.on((event) => events.push(event));

    hooks.notifyOnError({ error: new Error('x'), phase: 'turn', sessionId: 's' });

    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ phase: 'turn' }));
    expect(events).toEqual([]);
  });
});
