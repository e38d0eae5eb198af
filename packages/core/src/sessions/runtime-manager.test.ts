import { flush } from '@internal/testing/scripted-llm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RuntimeManager } from './runtime-manager';

afterEach(() => {
  vi.useRealTimers();
});

describe('RuntimeManager', () => {
  it('shares one creation between concurrent acquirers', async () => {
    let created = 0;
    const manager = new RuntimeManager({
      create: async (id) => {
        created += 1;
        await flush();
        return { id };
      },
    });

    const [a, b] = await Promise.all([manager.acquire('s', 'h1'), manager.acquire('s', 'h2')]);

    expect(created).toBe(1);
    expect(a).toBe(b);
    expect(manager.holderCount('s')).toBe(2);
    expect(manager.totalHolders).toBe(2);
  });

  it('leaves nothing behind when creation fails', async () => {
    const manager = new RuntimeManager<string>({
      create: async () => {
        throw new Error('missing');
      },
    });

    await expect(manager.acquire('s', 'h')).rejects.toThrow('missing');

    expect(manager.has('s')).toBe(false);
    expect(manager.holderCount('s')).toBe(0);
  });

  it('drops a runtime at once without holders when idleTtlMs is 0', async () => {
    const manager = new RuntimeManager({ create: async (id) => id });
    await manager.acquire('s', 'h');

    manager.release('s', 'unknown');
    expect(manager.has('s')).toBe(true);
    manager.release('s', 'h');

    expect(manager.has('s')).toBe(false);
  });

  it('keeps an idle runtime for idleTtlMs and cancels the drop on a new acquire', async () => {
    vi.useFakeTimers();
    let created = 0;
    const manager = new RuntimeManager({
      create: async (id) => {
        created += 1;
        return id;
      },
      idleTtlMs: 100,
    });
    await manager.acquire('s', 'h');
    manager.release('s', 'h');
    vi.advanceTimersByTime(50);
    await manager.acquire('s', 'h2');
    vi.advanceTimersByTime(500);
    expect(manager.has('s')).toBe(true);

    manager.release('s', 'h2');
    vi.advanceTimersByTime(100);

    expect(manager.has('s')).toBe(false);
    expect(created).toBe(1);
  });

  it('drops everything on clear', async () => {
    const manager = new RuntimeManager({ create: async (id) => id, idleTtlMs: 1_000 });
    await manager.acquire('a', 'h');
    await manager.acquire('b', 'h');
    manager.release('b', 'h');

    manager.clear();

    expect(manager.has('a')).toBe(false);
    expect(manager.has('b')).toBe(false);
  });
});
