import { describe, expect, it } from 'vitest';
import { TextChannel } from './text-channel';

async function collect(channel: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const text of channel) out.push(text);
  return out;
}

describe('TextChannel', () => {
  it('delivers buffered and later text, then ends on close', async () => {
    const channel = new TextChannel();
    channel.push('a');
    const reading = collect(channel);
    channel.push('b');
    channel.push('');
    channel.close();
    channel.push('ignored');

    expect(await reading).toEqual(['a', 'b']);
  });

  it('ends with the error after the buffered text', async () => {
    const channel = new TextChannel();
    channel.push('partial');
    channel.fail(new Error('broken'));
    const seen: string[] = [];

    await expect(
      (async () => {
        for await (const text of channel) seen.push(text);
      })(),
    ).rejects.toThrow('broken');
    expect(seen).toEqual(['partial']);
  });

  it('rejects a waiting reader when it fails', async () => {
    const channel = new TextChannel();
    const reading = collect(channel);
    channel.fail(new Error('later'));

    await expect(reading).rejects.toThrow('later');
  });

  it('stops delivering once the consumer breaks', async () => {
    const channel = new TextChannel();
    channel.push('one');
    channel.push('two');
    const seen: string[] = [];
    for await (const text of channel) {
      seen.push(text);
      break;
    }
    channel.push('three');
    channel.close();

    expect(seen).toEqual(['one']);
    expect(await collect(channel)).toEqual([]);
  });
});
