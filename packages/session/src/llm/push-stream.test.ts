import { describe, expect, it } from 'vitest';
import { createPushStream } from './push-stream';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const values: T[] = [];
  for await (const value of iterable) values.push(value);
  return values;
}

describe('createPushStream', () => {
  it('delivers values pushed before and after the consumer starts, in order', async () => {
    const stream = createPushStream<number>();
    stream.push(1);
    stream.push(2);
    const collected = collect(stream.iterable);
    await Promise.resolve();
    stream.push(3);
    stream.end();
    expect(await collected).toEqual([1, 2, 3]);
  });

  it('throws the error after the queued values when ended with an error', async () => {
    const stream = createPushStream<string>();
    stream.push('a');
    stream.end(new Error('boom'));
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const value of stream.iterable) seen.push(value);
      })(),
    ).rejects.toThrow('boom');
    expect(seen).toEqual(['a']);
  });

  it('drops later pushes and ends the iteration when the consumer returns early', async () => {
    const stream = createPushStream<number>();
    stream.push(1);
    stream.push(2);
    for await (const value of stream.iterable) {
      expect(value).toBe(1);
      break;
    }
    expect(stream.detached).toBe(true);
    stream.push(3);
    stream.end(new Error('ignored after detach'));
    expect(await collect(stream.iterable)).toEqual([]);
  });

  it('ignores pushes after end', async () => {
    const stream = createPushStream<number>();
    stream.push(1);
    stream.end();
    stream.push(2);
    expect(await collect(stream.iterable)).toEqual([1]);
  });

  it('wakes a waiting consumer when the stream ends', async () => {
    const stream = createPushStream<number>();
    const iterator = stream.iterable[Symbol.asyncIterator]();
    const pending = iterator.next();
    stream.end();
    expect(await pending).toEqual({ done: true, value: undefined });
  });
});
