import type { TurnRecord } from '@stello-ai/core';
import { describe, expect, it } from 'vitest';
import { type ContractFactory, expectCode } from './types';
import { useFixture } from './use-fixture';

const GHOST_ID = '00000000-0000-4000-8000-000000000000';

function record(content: string, role: TurnRecord['role'] = 'user'): TurnRecord {
  return { role, content, timestamp: new Date().toISOString() };
}

/**
 * The `MemoryEngine` contract: L1 core data, memory/scope/index slots, records with paging, and
 * `assembleContext`, scoped to one space. Run it against every backend.
 */
export function describeMemoryEngineContract(name: string, factory: ContractFactory): void {
  describe(`MemoryEngine contract: ${name}`, () => {
    const fx = useFixture(factory);

    it('reads and writes core data by key and as a whole', async () => {
      const { memory } = fx.current;
      expect(await memory.readCore('missing')).toBeNull();
      expect(await memory.readCore()).toEqual({});
      await memory.writeCore('name', 'Ada');
      await memory.writeCore('prefs', { theme: 'dark', langs: ['en', 'fr'] });
      await memory.writeCore('name', 'Grace');
      expect(await memory.readCore('name')).toBe('Grace');
      expect(await memory.readCore('prefs')).toEqual({ theme: 'dark', langs: ['en', 'fr'] });
      expect(await memory.readCore()).toEqual({
        name: 'Grace',
        prefs: { theme: 'dark', langs: ['en', 'fr'] },
      });
    });

    it('shares core data with the storage globals of the same space', async () => {
      const { memory, storage } = fx.current;
      await memory.writeCore('k', { v: 1 });
      expect(await storage.getGlobal('k')).toEqual({ v: 1 });
      await storage.putGlobal('k2', 2);
      expect(await memory.readCore('k2')).toBe(2);
    });

    it('reads and writes the memory, scope and index slots', async () => {
      const { memory, storage, rootId } = fx.current;
      expect(await memory.readMemory(rootId)).toBeNull();
      expect(await memory.readScope(rootId)).toBeNull();
      expect(await memory.readIndex(rootId)).toBeNull();
      await memory.writeMemory(rootId, 'm');
      await memory.writeScope(rootId, 's');
      await memory.writeIndex(rootId, 'i');
      expect(await memory.readMemory(rootId)).toBe('m');
      expect(await memory.readScope(rootId)).toBe('s');
      expect(await memory.readIndex(rootId)).toBe('i');
      expect(await storage.getMemory(rootId)).toBe('m');
      await expectCode(memory.writeMemory(GHOST_ID, 'x'), 'SESSION_NOT_FOUND');
    });

    it('appends and reads records with their metadata and tool fields', async () => {
      const { memory, rootId } = fx.current;
      const records: TurnRecord[] = [
        { role: 'user', content: 'q', timestamp: '2024-05-01T10:00:00.000Z', metadata: { source: 'ws' } },
        {
          role: 'assistant',
          content: '',
          timestamp: '2024-05-01T10:00:01.000Z',
          toolCalls: [{ id: 'c1', name: 'lookup', input: { id: 7 } }],
        },
        { role: 'tool', content: '{"ok":true}', timestamp: '2024-05-01T10:00:02.000Z', toolCallId: 'c1' },
      ];
      for (const entry of records) await memory.appendRecord(rootId, entry);
      expect(await memory.readRecords(rootId)).toEqual(records);
      expect(await memory.readRecords(GHOST_ID)).toEqual([]);
    });

    it('replaces every record of a session', async () => {
      const { memory, rootId } = fx.current;
      if (!memory.replaceRecords) throw new Error('replaceRecords is required by this contract');
      await memory.appendRecord(rootId, record('old 1'));
      await memory.appendRecord(rootId, record('old 2'));
      await memory.replaceRecords(rootId, [record('new')]);
      expect((await memory.readRecords(rootId)).map((r) => r.content)).toEqual(['new']);
    });

    it('pages through records with opaque cursors', async () => {
      const { memory, rootId } = fx.current;
      for (let i = 1; i <= 5; i += 1) await memory.appendRecord(rootId, record(`r${i}`));
      const first = await memory.readRecordPage(rootId, { limit: 2 });
      expect(first.records.map((r) => r.content)).toEqual(['r1', 'r2']);
      expect(typeof first.nextCursor).toBe('string');
      const second = await memory.readRecordPage(rootId, { limit: 2, after: first.nextCursor });
      expect(second.records.map((r) => r.content)).toEqual(['r3', 'r4']);
      const third = await memory.readRecordPage(rootId, { limit: 2, after: second.nextCursor });
      expect(third.records.map((r) => r.content)).toEqual(['r5']);
      expect(third.nextCursor).toBeNull();
      const exact = await memory.readRecordPage(rootId, { limit: 5 });
      expect(exact.records).toHaveLength(5);
      expect(exact.nextCursor).toBeNull();
      const empty = await memory.readRecordPage(GHOST_ID, { limit: 5 });
      expect(empty).toEqual({ records: [], nextCursor: null });
    });

    it('keeps a cursor valid when records are appended after it', async () => {
      const { memory, rootId } = fx.current;
      await memory.appendRecord(rootId, record('a'));
      await memory.appendRecord(rootId, record('b'));
      const first = await memory.readRecordPage(rootId, { limit: 1 });
      await memory.appendRecord(rootId, record('c'));
      const rest = await memory.readRecordPage(rootId, { limit: 10, after: first.nextCursor });
      expect(rest.records.map((r) => r.content)).toEqual(['b', 'c']);
    });

    it('assembles core data, ancestor memories nearest first, own memory and scope', async () => {
      const { memory, sessions, rootId } = fx.current;
      const a = await sessions.createChild({ parentId: rootId, label: 'A' });
      const a1 = await sessions.createChild({ parentId: a.id, label: 'A1' });
      const a11 = await sessions.createChild({ parentId: a1.id, label: 'A11' });
      await memory.writeCore('user', 'Ada');
      await memory.writeMemory(rootId, 'root memory');
      await memory.writeMemory(a.id, 'A memory');
      await memory.writeMemory(a1.id, '');
      await memory.writeMemory(a11.id, 'own memory');
      await memory.writeScope(a11.id, 'own scope');
      expect(await memory.assembleContext(a11.id)).toEqual({
        core: { user: 'Ada' },
        memories: ['A memory', 'root memory'],
        currentMemory: 'own memory',
        scope: 'own scope',
      });
      expect(await memory.assembleContext(rootId)).toEqual({
        core: { user: 'Ada' },
        memories: [],
        currentMemory: 'root memory',
        scope: null,
      });
      await expectCode(memory.assembleContext(GHOST_ID), 'SESSION_NOT_FOUND');
    });

    it('keeps every read and write inside the space', async () => {
      const { memory, rootId, otherSpace } = fx.current;
      await otherSpace.memory.writeCore('secret', 'foreign');
      await otherSpace.memory.writeMemory(otherSpace.rootId, 'foreign memory');
      await otherSpace.memory.appendRecord(otherSpace.rootId, record('foreign record'));
      expect(await memory.readCore('secret')).toBeNull();
      expect(await memory.readCore()).toEqual({});
      expect(await memory.readMemory(otherSpace.rootId)).toBeNull();
      expect(await memory.readRecords(otherSpace.rootId)).toEqual([]);
      expect((await memory.readRecordPage(otherSpace.rootId, { limit: 10 })).records).toEqual([]);
      await expectCode(memory.writeMemory(otherSpace.rootId, 'overwrite'), 'SESSION_NOT_FOUND');
      await expectCode(memory.appendRecord(otherSpace.rootId, record('inject')), 'SESSION_NOT_FOUND');
      await expectCode(memory.assembleContext(otherSpace.rootId), 'SESSION_NOT_FOUND');
      expect(await otherSpace.memory.readMemory(otherSpace.rootId)).toBe('foreign memory');
      expect(await otherSpace.memory.readRecords(otherSpace.rootId)).toHaveLength(1);
      expect(await memory.readMemory(rootId)).toBeNull();
    });
  });
}
