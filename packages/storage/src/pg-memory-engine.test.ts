import { createTestDatabase, expectCode, type TestDatabase } from '@internal/testing';
import type { TurnRecord } from '@stello-ai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countStatements } from './__fixtures__/count-statements';
import { createSpaceFixture, type SpaceFixture } from './__fixtures__/space-fixture';
import { MAX_RECORD_PAGE_SIZE, PgMemoryEngine } from './pg-memory-engine';

let database: TestDatabase;
let space: SpaceFixture;

beforeAll(async () => {
  database = await createTestDatabase();
  space = await createSpaceFixture(database.pool, 'memory engine');
});

afterAll(async () => {
  await database.drop();
});

describe('PgMemoryEngine', () => {
  describe('readRecordPage', () => {
    let sessionId: string;
    const total = 2000;

    beforeAll(async () => {
      const child = await space.storage.createChild(space.rootId, { label: 'paged' });
      sessionId = child.id;
      const records = Array.from({ length: total }, (_, i) => ({ role: 'user' as const, content: `r${i}` }));
      await space.storage.commitTurn(sessionId, { records, countTurn: true });
    });

    it('pages over 2,000 records in order, one statement per page', async () => {
      const memory = new PgMemoryEngine(database.pool, space.spaceId);
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      const counter = countStatements(database.pool);
      try {
        do {
          const page: { records: TurnRecord[]; nextCursor: string | null } = await memory.readRecordPage(
            sessionId,
            {
              limit: 150,
              after,
            },
          );
          seen.push(...page.records.map((r) => r.content));
          after = page.nextCursor;
          pages += 1;
        } while (after !== null);
        expect(counter.count).toBe(pages);
      } finally {
        counter.stop();
      }
      expect(pages).toBe(Math.ceil(total / 150));
      expect(seen).toEqual(Array.from({ length: total }, (_, i) => `r${i}`));
    });

    it('caps a page at MAX_RECORD_PAGE_SIZE records', async () => {
      const memory = new PgMemoryEngine(database.pool, space.spaceId);
      const page = await memory.readRecordPage(sessionId, { limit: 5000 });
      expect(page.records).toHaveLength(MAX_RECORD_PAGE_SIZE);
      expect(page.nextCursor).not.toBeNull();
    });

    it('refuses cursors it did not make and limits below one', async () => {
      const memory = new PgMemoryEngine(database.pool, space.spaceId);
      for (const after of [
        'not a cursor',
        '!!',
        Buffer.from('r-1').toString('base64url'),
        'cjEyMzQ1Njc4OTAxMjM0NTY3OA',
      ]) {
        await expectCode(memory.readRecordPage(sessionId, { limit: 10, after }), 'INVALID_ARGUMENT');
      }
      await expectCode(memory.readRecordPage(sessionId, { limit: 0 }), 'INVALID_ARGUMENT');
      await expectCode(memory.readRecordPage(sessionId, { limit: 2.5 }), 'INVALID_ARGUMENT');
    });

    it('reads all records oldest first', async () => {
      const memory = new PgMemoryEngine(database.pool, space.spaceId);
      const records = await memory.readRecords(sessionId);
      expect(records).toHaveLength(total);
      expect(records[0]).toMatchObject({ role: 'user', content: 'r0' });
      expect(typeof records[0]!.timestamp).toBe('string');
      expect(records[0]).not.toHaveProperty('metadata');
      expect(records[0]).not.toHaveProperty('toolCalls');
      expect(records[0]).not.toHaveProperty('toolCallId');
    });
  });

  describe('assembleContext', () => {
    it('walks a deep lineage in one statement, nearest memory first, blank ones skipped', async () => {
      const memory = new PgMemoryEngine(database.pool, space.spaceId);
      const chain: string[] = [];
      let parentId = space.rootId;
      for (let depth = 1; depth <= 13; depth += 1) {
        const node = await space.sessions.createChild({ parentId, label: `level ${depth}` });
        chain.push(node.id);
        parentId = node.id;
        await memory.writeMemory(node.id, depth % 3 === 0 ? '  \n ' : `memory ${depth}`);
      }
      await memory.writeMemory(space.rootId, 'root memory');
      await memory.writeCore('profile', { name: 'Ada' });
      await memory.writeScope(parentId, 'leaf scope');
      const counter = countStatements(database.pool);
      const context = await memory.assembleContext(parentId);
      counter.stop();
      expect(counter.count).toBe(1);
      const expected = [11, 10, 8, 7, 5, 4, 2, 1].map((depth) => `memory ${depth}`);
      expect(context).toEqual({
        core: { profile: { name: 'Ada' } },
        memories: [...expected, 'root memory'],
        currentMemory: 'memory 13',
        scope: 'leaf scope',
      });
    });
  });

  describe('core data', () => {
    it('stores any JSON value, including null, strings and arrays', async () => {
      const memory = new PgMemoryEngine(database.pool, space.spaceId);
      await memory.writeCore('array', [1, 'two', { three: 3 }]);
      await memory.writeCore('string', 'plain');
      await memory.writeCore('nothing', null);
      await memory.writeCore('unicode', { 名前: '🌳' });
      expect(await memory.readCore('array')).toEqual([1, 'two', { three: 3 }]);
      expect(await memory.readCore('string')).toBe('plain');
      expect(await memory.readCore('nothing')).toBeNull();
      expect(await memory.readCore('unicode')).toEqual({ 名前: '🌳' });
      await expectCode(memory.writeCore('bad', { text: 'a\u0000b' }), 'INVALID_ARGUMENT');
      await expectCode(memory.writeCore('', 1), 'INVALID_ARGUMENT');
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await expectCode(memory.writeCore('cyclic', cyclic), 'INVALID_ARGUMENT');
      expect(await memory.readCore('bad')).toBeNull();
    });
  });

  describe('records', () => {
    it('replaces records atomically and refuses NUL characters', async () => {
      const memory = new PgMemoryEngine(database.pool, space.spaceId);
      const child = await space.storage.createChild(space.rootId, { label: 'replace' });
      const at = '2025-01-01T00:00:00.000Z';
      await memory.appendRecord(child.id, { role: 'user', content: 'old', timestamp: at });
      await expectCode(
        memory.replaceRecords(child.id, [
          { role: 'user', content: 'new', timestamp: at },
          { role: 'assistant', content: 'bad\u0000', timestamp: at },
        ]),
        'INVALID_ARGUMENT',
      );
      expect(await memory.readRecords(child.id)).toEqual([{ role: 'user', content: 'old', timestamp: at }]);
      await memory.replaceRecords(child.id, [
        { role: 'user', content: 'new 1', timestamp: at },
        { role: 'assistant', content: 'new 2', timestamp: at },
      ]);
      expect((await memory.readRecords(child.id)).map((r) => r.content)).toEqual(['new 1', 'new 2']);
    });
  });
});
