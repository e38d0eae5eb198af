import { isCodedError } from '@stello-ai/session';
import { describe, expect, it } from 'vitest';
import { createInMemoryStores } from './index';

async function setup() {
  const stores = createInMemoryStores();
  const root = await stores.sessions.createRoot();
  return { ...stores, rootId: root.id };
}

describe('InMemoryMemoryEngine', () => {
  it('rejects a cursor it did not issue and a non-positive limit with INVALID_ARGUMENT', async () => {
    const { memory, rootId } = await setup();
    for (const options of [{ limit: 10, after: 'not-a-cursor' }, { limit: 0 }, { limit: 1.5 }]) {
      const error = await memory.readRecordPage(rootId, options).catch((caught: unknown) => caught);
      expect(isCodedError(error, 'INVALID_ARGUMENT')).toBe(true);
    }
  });

  it('returns records written by a session turn as TurnRecords with timestamps', async () => {
    const { memory, storage, rootId } = await setup();
    await storage.commitTurn(rootId, {
      records: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a', metadata: { model: 'm' } },
      ],
      countTurn: true,
    });
    const records = await memory.readRecords(rootId);
    expect(records).toEqual([
      { role: 'user', content: 'q', timestamp: expect.any(String) },
      { role: 'assistant', content: 'a', timestamp: expect.any(String), metadata: { model: 'm' } },
    ]);
  });

  it('returns copies of core data', async () => {
    const { memory } = await setup();
    await memory.writeCore('obj', { list: [1] });
    const read = (await memory.readCore('obj')) as { list: number[] };
    read.list.push(2);
    expect(await memory.readCore('obj')).toEqual({ list: [1] });
  });
});
