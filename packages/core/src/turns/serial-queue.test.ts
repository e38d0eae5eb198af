import { flush, gate } from '@internal/testing/scripted-llm';
import { describe, expect, it } from 'vitest';
import { SerialQueue } from './serial-queue';

describe('SerialQueue', () => {
  it('runs tasks of one key one at a time, in order', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const task = (name: string) => async () => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      log.push(`start ${name}`);
      await flush();
      log.push(`end ${name}`);
      running -= 1;
      return name;
    };

    const results = await Promise.all([
      queue.run('k', task('a')),
      queue.run('k', task('b')),
      queue.run('k', task('c')),
    ]);

    expect(results).toEqual(['a', 'b', 'c']);
    expect(maxRunning).toBe(1);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('runs tasks of different keys in parallel', async () => {
    const queue = new SerialQueue();
    const second = gate();

    const first = queue.run('a', async () => {
      await second.promise;
      return 'a';
    });
    const other = queue.run('b', async () => {
      second.open();
      return 'b';
    });

    expect(await Promise.all([first, other])).toEqual(['a', 'b']);
  });

  it('does not let a failed task block the next one', async () => {
    const queue = new SerialQueue();

    const failed = queue.run('k', async () => {
      throw new Error('nope');
    });
    const next = queue.run('k', async () => 'ran');

    await expect(failed).rejects.toThrow('nope');
    expect(await next).toBe('ran');
  });

  it('removes idle keys', async () => {
    const queue = new SerialQueue();

    const pending = queue.run('k', async () => 1);
    expect(queue.isIdle('k')).toBe(false);
    await pending;
    await flush();

    expect(queue.isIdle('k')).toBe(true);
    expect(queue.size).toBe(0);
  });

  it('runs a task at once when the caller already holds the key', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];

    await queue.run('k', () =>
      SerialQueue.runHolding('k', async () => {
        log.push('outer');
        await queue.run('k', async () => log.push('inner'));
        log.push('outer done');
      }),
    );

    expect(log).toEqual(['outer', 'inner', 'outer done']);
  });

  it('queues work started from detached code even inside a held key', async () => {
    const queue = new SerialQueue();
    const release = gate();
    const log: string[] = [];
    let inner: Promise<unknown> = Promise.resolve();

    const outer = queue.run('k', async () => {
      SerialQueue.runHolding('k', () => {
        inner = SerialQueue.detached(() => queue.run('k', async () => log.push('inner')));
      });
      await release.promise;
      log.push('outer');
    });
    await flush();
    release.open();
    await Promise.all([outer, inner]);

    expect(log).toEqual(['outer', 'inner']);
  });
});
