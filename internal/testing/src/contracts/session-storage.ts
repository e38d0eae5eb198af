// One file over the size rule on purpose: the contract suite of `SessionStorage`, one `it` per
// promise of the interface, run unchanged against every implementation.
/*
 * Over 350 lines: one contract, `SessionStorage`, that every backend runs whole; its cases share
 * one fixture and one `describe`, so splitting it would only spread one job over several files.
 */
import type { Message } from '@stello-ai/session';
import { describe, expect, it } from 'vitest';
import { type ContractFactory, expectCode } from './types';
import { useFixture } from './use-fixture';

const strip = (records: Message[]) => records.map(({ role, content }) => ({ role, content }));

/**
 * The `SessionStorage` contract: meta, records, slots, the turn read/commit pair, forks and
 * transactions, scoped to one space. Run it against every backend.
 *
 * @example
 * describeSessionStorageContract('in-memory', async () => inMemoryFixture());
 */
export function describeSessionStorageContract(name: string, factory: ContractFactory): void {
  describe(`SessionStorage contract: ${name}`, () => {
    const fx = useFixture(factory);

    describe('sessions', () => {
      it('returns null for an unknown id and the root meta for the root', async () => {
        const { storage, rootId } = fx.current;
        expect(await storage.getSession('00000000-0000-4000-8000-000000000000')).toBeNull();
        expect(await storage.getSession(rootId)).toMatchObject({
          id: rootId,
          role: 'main',
          status: 'active',
        });
      });

      it('updates label, status, tags and metadata with putSession', async () => {
        const { storage, rootId } = fx.current;
        const child = await storage.createChild(rootId, { label: 'before' });
        const meta = (await storage.getSession(child.id))!;
        await storage.putSession({
          ...meta,
          label: 'after',
          tags: ['x', 'y'],
          metadata: { n: 1 },
          status: 'archived',
        });
        expect(await storage.getSession(child.id)).toMatchObject({
          id: child.id,
          label: 'after',
          tags: ['x', 'y'],
          metadata: { n: 1 },
          status: 'archived',
          role: 'standard',
        });
      });

      it('creates an unknown standard session under the root, as the original createSession() and fork() expect', async () => {
        const { storage, rootId } = fx.current;
        const existing = await storage.createChild(rootId, { label: 'first' });
        const fresh = {
          id: '00000000-0000-4000-8000-0000000000aa',
          label: 'forked',
          role: 'standard' as const,
          status: 'active' as const,
          tags: ['t'],
          metadata: { from: 'fork' },
          createdAt: new Date().toISOString(),
          updatedAt: new Date().toISOString(),
        };
        await storage.putSession(fresh);
        expect(await storage.getSession(fresh.id)).toMatchObject({
          id: fresh.id,
          label: 'forked',
          role: 'standard',
          status: 'active',
          tags: ['t'],
          metadata: { from: 'fork' },
        });
        expect(await storage.getSessionRow(fresh.id)).toMatchObject({
          parentId: rootId,
          depth: 1,
          index: existing.index + 1,
          turnCount: 0,
        });
        // No system prompt is copied: the original fork() writes it itself when it has one.
        expect(await storage.getSystemPrompt(fresh.id)).toBeNull();
        // The second put of the same id is the update it always was.
        await storage.putSession({ ...fresh, label: 'renamed', status: 'archived' });
        expect(await storage.getSessionRow(fresh.id)).toMatchObject({
          label: 'renamed',
          status: 'archived',
          parentId: rootId,
        });
      });

      it('creates a fresh session with the status it is given, and refuses a bad one', async () => {
        const { storage, rootId } = fx.current;
        const root = (await storage.getSession(rootId))!;
        const archived = {
          ...root,
          id: '00000000-0000-4000-8000-0000000000ab',
          role: 'standard' as const,
          status: 'archived' as const,
        };
        await storage.putSession(archived);
        expect(await storage.getSessionRow(archived.id)).toMatchObject({
          status: 'archived',
          parentId: rootId,
        });
        await expectCode(
          storage.putSession({ ...archived, id: '00000000-0000-4000-8000-0000000000ac', label: '' }),
          'INVALID_ARGUMENT',
        );
        expect(await storage.getSession('00000000-0000-4000-8000-0000000000ac')).toBeNull();
      });

      it('refuses a second root through putSession', async () => {
        const { storage, rootId } = fx.current;
        const root = (await storage.getSession(rootId))!;
        const second = { ...root, id: '00000000-0000-4000-8000-0000000000bb' };
        await expectCode(storage.putSession(second), 'SESSION_NOT_FOUND');
        expect(await storage.getSession(second.id)).toBeNull();
      });

      it('returns the full row with getSessionRow', async () => {
        const { storage, rootId } = fx.current;
        expect(await storage.getSessionRow(rootId)).toMatchObject({
          id: rootId,
          parentId: null,
          depth: 0,
          turnCount: 0,
          role: 'main',
          sourceSessionId: null,
        });
        expect(await storage.getSessionRow('00000000-0000-4000-8000-000000000000')).toBeNull();
      });
    });

    describe('records', () => {
      it('appends and lists records oldest first with their tool fields', async () => {
        const { storage, rootId } = fx.current;
        const records: Message[] = [
          { role: 'user', content: 'q', timestamp: '2024-01-01T00:00:00.000Z', metadata: { via: 'test' } },
          {
            role: 'assistant',
            content: '',
            toolCalls: [{ id: 'c1', name: 'search', input: { q: 'x', n: [1, 2] } }],
          },
          { role: 'tool', content: 'found', toolCallId: 'c1' },
          { role: 'assistant', content: 'done' },
        ];
        for (const record of records) await storage.appendRecord(rootId, record);
        const listed = await storage.listRecords(rootId);
        expect(strip(listed)).toEqual(strip(records));
        expect(listed[0]).toMatchObject({ timestamp: '2024-01-01T00:00:00.000Z', metadata: { via: 'test' } });
        expect(listed[1]!.toolCalls).toEqual(records[1]!.toolCalls);
        expect(listed[2]!.toolCallId).toBe('c1');
        expect(typeof listed[3]!.timestamp).toBe('string');
      });

      it('applies the role filter before offset and limit', async () => {
        const { storage, rootId } = fx.current;
        const plan = ['u1', 'a1', 'u2', 'a2', 'u3', 'a3'];
        for (const content of plan) {
          await storage.appendRecord(rootId, {
            role: content.startsWith('u') ? 'user' : 'assistant',
            content,
          });
        }
        const pick = (records: Message[]) => records.map((r) => r.content);
        expect(pick(await storage.listRecords(rootId, { role: 'user' }))).toEqual(['u1', 'u2', 'u3']);
        expect(pick(await storage.listRecords(rootId, { role: 'user', offset: 1, limit: 1 }))).toEqual([
          'u2',
        ]);
        expect(pick(await storage.listRecords(rootId, { limit: 2 }))).toEqual(['u1', 'a1']);
        expect(pick(await storage.listRecords(rootId, { offset: 4 }))).toEqual(['u3', 'a3']);
      });

      it('returns no records for an unknown session and refuses to append to it', async () => {
        const { storage } = fx.current;
        const ghost = '00000000-0000-4000-8000-000000000000';
        expect(await storage.listRecords(ghost)).toEqual([]);
        await expectCode(storage.appendRecord(ghost, { role: 'user', content: 'x' }), 'SESSION_NOT_FOUND');
      });

      it('keeps only the newest records with trimRecords', async () => {
        const { storage, rootId } = fx.current;
        for (const content of ['1', '2', '3', '4'])
          await storage.appendRecord(rootId, { role: 'user', content });
        await storage.trimRecords(rootId, 2);
        expect((await storage.listRecords(rootId)).map((r) => r.content)).toEqual(['3', '4']);
        await storage.trimRecords(rootId, 0);
        expect(await storage.listRecords(rootId)).toEqual([]);
      });
    });

    describe('slots', () => {
      it('reads missing slots as null and round-trips every slot', async () => {
        const { storage, rootId } = fx.current;
        expect(await storage.getSystemPrompt(rootId)).toBeNull();
        expect(await storage.getInsight(rootId)).toBeNull();
        expect(await storage.getMemory(rootId)).toBeNull();
        expect(await storage.getSlot(rootId, 'consolidate_prompt')).toBeNull();
        await storage.putSystemPrompt(rootId, 'sys');
        await storage.putInsight(rootId, 'ins');
        await storage.putMemory(rootId, 'mem');
        await storage.putSlot(rootId, 'integrate_prompt', 'int');
        expect(await storage.getSystemPrompt(rootId)).toBe('sys');
        expect(await storage.getSlot(rootId, 'system_prompt')).toBe('sys');
        expect(await storage.getInsight(rootId)).toBe('ins');
        expect(await storage.getMemory(rootId)).toBe('mem');
        expect(await storage.getSlot(rootId, 'integrate_prompt')).toBe('int');
        await storage.putMemory(rootId, 'mem 2');
        expect(await storage.getMemory(rootId)).toBe('mem 2');
      });

      it('clears the insight', async () => {
        const { storage, rootId } = fx.current;
        await storage.putInsight(rootId, 'once');
        await storage.clearInsight(rootId);
        expect(await storage.getInsight(rootId)).toBeNull();
        await storage.clearInsight(rootId);
      });

      it('refuses slot writes to an unknown session', async () => {
        const { storage } = fx.current;
        const ghost = '00000000-0000-4000-8000-000000000000';
        await expectCode(storage.putSystemPrompt(ghost, 'x'), 'SESSION_NOT_FOUND');
        await expectCode(storage.putMemory(ghost, 'x'), 'SESSION_NOT_FOUND');
        await expectCode(storage.putSlot(ghost, 'scope', 'x'), 'SESSION_NOT_FOUND');
      });
    });

    describe('turns', () => {
      it('loads the turn context with the newest records window', async () => {
        const { storage, rootId } = fx.current;
        const child = await storage.createChild(rootId, { label: 'c', systemPrompt: 'sys' });
        await storage.putInsight(child.id, 'ins');
        await storage.putMemory(child.id, 'mem');
        for (const content of ['1', '2', '3', '4', '5'])
          await storage.appendRecord(child.id, { role: 'user', content });
        const context = await storage.loadTurnContext(child.id, { maxRecords: 3 });
        expect(context).toMatchObject({
          meta: { id: child.id, label: 'c', role: 'standard', status: 'active' },
          turnCount: 0,
          systemPrompt: 'sys',
          insight: 'ins',
          memory: 'mem',
          hasOlderRecords: true,
        });
        expect(context!.records.map((r) => r.content)).toEqual(['3', '4', '5']);
        const all = await storage.loadTurnContext(child.id, { maxRecords: 10 });
        expect(all!.records).toHaveLength(5);
        expect(all!.hasOlderRecords).toBe(false);
        expect(
          await storage.loadTurnContext('00000000-0000-4000-8000-000000000000', { maxRecords: 5 }),
        ).toBeNull();
      });

      it('commits records, counts the turn, moves lastActiveAt and consumes the shown insight', async () => {
        const { storage, rootId } = fx.current;
        const child = await storage.createChild(rootId, { label: 'c' });
        await storage.putInsight(child.id, 'shown');
        const before = (await storage.getSessionRow(child.id))!;
        const records: Message[] = [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: '', toolCalls: [{ id: 't1', name: 'x', input: {} }] },
          { role: 'tool', content: 'r', toolCallId: 't1' },
          { role: 'assistant', content: 'a' },
        ];
        const result = await storage.commitTurn(child.id, {
          records,
          consumeInsight: 'shown',
          countTurn: true,
          expectedTurnCount: 0,
        });
        expect(result.turnCount).toBe(1);
        const after = (await storage.getSessionRow(child.id))!;
        expect(after.turnCount).toBe(1);
        expect(after.lastActiveAt).toBe(result.lastActiveAt);
        expect(Date.parse(after.lastActiveAt)).toBeGreaterThanOrEqual(Date.parse(before.lastActiveAt));
        expect(strip(await storage.listRecords(child.id))).toEqual(strip(records));
        expect((await storage.listRecords(child.id))[1]!.toolCalls).toEqual(records[1]!.toolCalls);
        expect(await storage.getInsight(child.id)).toBeNull();
      });

      it('keeps an insight that changed since it was shown', async () => {
        const { storage, rootId } = fx.current;
        const child = await storage.createChild(rootId, { label: 'c' });
        await storage.putInsight(child.id, 'newer');
        await storage.commitTurn(child.id, {
          records: [{ role: 'user', content: 'q' }],
          consumeInsight: 'older',
          countTurn: true,
        });
        expect(await storage.getInsight(child.id)).toBe('newer');
      });

      it('does not count a turn when countTurn is false', async () => {
        const { storage, rootId } = fx.current;
        const result = await storage.commitTurn(rootId, {
          records: [{ role: 'user', content: 'q' }],
          countTurn: false,
        });
        expect(result.turnCount).toBe(0);
        expect((await storage.getSessionRow(rootId))!.turnCount).toBe(0);
        expect(await storage.listRecords(rootId)).toHaveLength(1);
      });

      it('throws TURN_CONFLICT and writes nothing when the turn count moved', async () => {
        const { storage, rootId } = fx.current;
        await storage.putInsight(rootId, 'ins');
        await storage.commitTurn(rootId, { records: [{ role: 'user', content: 'first' }], countTurn: true });
        await expectCode(
          storage.commitTurn(rootId, {
            records: [{ role: 'user', content: 'second' }],
            consumeInsight: 'ins',
            countTurn: true,
            expectedTurnCount: 0,
          }),
          'TURN_CONFLICT',
        );
        expect((await storage.listRecords(rootId)).map((r) => r.content)).toEqual(['first']);
        expect(await storage.getInsight(rootId)).toBe('ins');
        expect((await storage.getSessionRow(rootId))!.turnCount).toBe(1);
      });

      it('refuses to commit to an archived or unknown session', async () => {
        const { storage, rootId } = fx.current;
        const child = await storage.createChild(rootId, { label: 'c' });
        const meta = (await storage.getSession(child.id))!;
        await storage.putSession({ ...meta, status: 'archived' });
        const commit = { records: [{ role: 'user' as const, content: 'q' }], countTurn: true };
        await expectCode(storage.commitTurn(child.id, commit), 'SESSION_ARCHIVED');
        await expectCode(
          storage.commitTurn('00000000-0000-4000-8000-000000000000', commit),
          'SESSION_NOT_FOUND',
        );
        expect(await storage.listRecords(child.id)).toEqual([]);
      });
    });

    describe('turn lease', () => {
      const TTL_MS = 60_000;
      const ghost = '00000000-0000-4000-8000-000000000000';
      const claim = (owner: string, ttlMs = TTL_MS) => ({ maxRecords: 10, lease: { owner, ttlMs } });
      /** Long enough for a 1 ms lease to lapse on any clock the backend reads. */
      const lapse = () => new Promise((resolve) => setTimeout(resolve, 25));
      const busy = async (promise: Promise<unknown>) => {
        const error = await promise.then(
          () => null,
          (caught: unknown) => caught,
        );
        await expectCode(Promise.reject(error), 'SESSION_BUSY');
        return (error as { details: { sessionId: string; retryAfterMs: number } }).details;
      };
      const turnRecords: Message[] = [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a' },
      ];

      it('takes the lease with the read, and a second owner gets SESSION_BUSY', async () => {
        const { storage, rootId } = fx.current;
        const child = await storage.createChild(rootId, { label: 'c', systemPrompt: 'sys' });
        await storage.appendRecord(child.id, { role: 'user', content: 'earlier' });
        const context = await storage.loadTurnContext(child.id, claim('a'));
        expect(context).toMatchObject({ meta: { id: child.id, status: 'active' }, systemPrompt: 'sys' });
        expect(context!.records.map((r) => r.content)).toEqual(['earlier']);
        const details = await busy(storage.loadTurnContext(child.id, claim('b')));
        expect(details.sessionId).toBe(child.id);
        expect(details.retryAfterMs).toBeGreaterThan(0);
        expect(details.retryAfterMs).toBeLessThanOrEqual(TTL_MS);
        // A read without a lease is never refused.
        expect(await storage.loadTurnContext(child.id, { maxRecords: 10 })).not.toBeNull();
      });

      it('lets the owner that holds the lease take it again', async () => {
        const { storage, rootId } = fx.current;
        await storage.loadTurnContext(rootId, claim('a'));
        expect(await storage.loadTurnContext(rootId, claim('a'))).toMatchObject({ meta: { id: rootId } });
        await busy(storage.loadTurnContext(rootId, claim('b')));
      });

      it('lets another owner take a lease that lapsed', async () => {
        const { storage, rootId } = fx.current;
        await storage.loadTurnContext(rootId, claim('crashed', 1));
        await lapse();
        expect(await storage.loadTurnContext(rootId, claim('b'))).not.toBeNull();
        await busy(storage.loadTurnContext(rootId, claim('crashed')));
      });

      it('releases the lease in the commit of its owner', async () => {
        const { storage, rootId } = fx.current;
        const context = await storage.loadTurnContext(rootId, claim('a'));
        const result = await storage.commitTurn(rootId, {
          records: turnRecords,
          countTurn: true,
          expectedTurnCount: context!.turnCount,
          releaseLease: 'a',
        });
        expect(result.turnCount).toBe(1);
        const next = await storage.loadTurnContext(rootId, claim('b'));
        expect(next!.turnCount).toBe(1);
        expect(next!.records.map((r) => r.content)).toEqual(['q', 'a']);
      });

      it('keeps the lease when the commit names another owner or writes nothing', async () => {
        const { storage, rootId } = fx.current;
        await storage.loadTurnContext(rootId, claim('a'));
        await storage.commitTurn(rootId, { records: turnRecords, countTurn: true, releaseLease: 'b' });
        await busy(storage.loadTurnContext(rootId, claim('b')));
        await expectCode(
          storage.commitTurn(rootId, {
            records: turnRecords,
            countTurn: true,
            expectedTurnCount: 0,
            releaseLease: 'a',
          }),
          'TURN_CONFLICT',
        );
        await busy(storage.loadTurnContext(rootId, claim('b')));
      });

      it('releases with releaseTurnLease only for the owner that holds it', async () => {
        const { storage, rootId } = fx.current;
        await storage.loadTurnContext(rootId, claim('a'));
        await storage.releaseTurnLease(rootId, 'b');
        await busy(storage.loadTurnContext(rootId, claim('b')));
        await storage.releaseTurnLease(rootId, 'a');
        expect(await storage.loadTurnContext(rootId, claim('b'))).not.toBeNull();
        // The former owner's late release does not free the new owner's lease.
        await storage.releaseTurnLease(rootId, 'a');
        await busy(storage.loadTurnContext(rootId, claim('c')));
      });

      it('renews only the lease its owner still holds', async () => {
        const { storage, rootId } = fx.current;
        await storage.loadTurnContext(rootId, claim('a', 1));
        await lapse();
        // Lapsed but not taken over: still the owner's to renew.
        expect(await storage.renewTurnLease(rootId, 'a', TTL_MS)).toBe(true);
        await lapse();
        await busy(storage.loadTurnContext(rootId, claim('b')));
        expect(await storage.renewTurnLease(rootId, 'b', TTL_MS)).toBe(false);
        await storage.releaseTurnLease(rootId, 'a');
        expect(await storage.renewTurnLease(rootId, 'a', TTL_MS)).toBe(false);
        expect(await storage.loadTurnContext(rootId, claim('b'))).not.toBeNull();
      });

      it('reads an archived session without taking or honouring the lease', async () => {
        const { storage, rootId } = fx.current;
        const child = await storage.createChild(rootId, { label: 'c' });
        await storage.loadTurnContext(child.id, claim('a'));
        const meta = (await storage.getSession(child.id))!;
        await storage.putSession({ ...meta, status: 'archived' });
        const context = await storage.loadTurnContext(child.id, claim('b'));
        expect(context!.meta.status).toBe('archived');
      });

      it('answers an unknown session with null, false and a no-op', async () => {
        const { storage } = fx.current;
        expect(await storage.loadTurnContext(ghost, claim('a'))).toBeNull();
        expect(await storage.renewTurnLease(ghost, 'a', TTL_MS)).toBe(false);
        await storage.releaseTurnLease(ghost, 'a');
      });

      it('refuses an empty owner and a ttl that is not a positive integer', async () => {
        const { storage, rootId } = fx.current;
        await expectCode(storage.loadTurnContext(rootId, claim('')), 'INVALID_ARGUMENT');
        await expectCode(storage.loadTurnContext(rootId, claim('a', 0)), 'INVALID_ARGUMENT');
        await expectCode(storage.loadTurnContext(rootId, claim('a', 1.5)), 'INVALID_ARGUMENT');
        await expectCode(storage.renewTurnLease(rootId, 'a', -1), 'INVALID_ARGUMENT');
        await expectCode(storage.releaseTurnLease(rootId, ''), 'INVALID_ARGUMENT');
        // Nothing was taken by the refused calls.
        expect(await storage.loadTurnContext(rootId, claim('b'))).not.toBeNull();
      });

      it('cannot take, renew or release the lease of a session of another space', async () => {
        const { storage, otherSpace } = fx.current;
        const foreign = otherSpace.rootId;
        expect(await storage.loadTurnContext(foreign, claim('intruder'))).toBeNull();
        expect(await otherSpace.storage.loadTurnContext(foreign, claim('a'))).not.toBeNull();
        expect(await storage.renewTurnLease(foreign, 'a', 1)).toBe(false);
        await storage.releaseTurnLease(foreign, 'a');
        await busy(otherSpace.storage.loadTurnContext(foreign, claim('b')));
        await lapse();
        // The renewal above was refused: the lease still runs on its original 60 s.
        await busy(otherSpace.storage.loadTurnContext(foreign, claim('b')));
      });
    });

    describe('createChild', () => {
      it('places the child under its parent with the given fields', async () => {
        const { storage, rootId } = fx.current;
        const a = await storage.createChild(rootId, {
          label: 'A',
          scope: 'coding',
          tags: ['t1'],
          metadata: { k: 'v' },
          sourceSessionId: rootId,
        });
        const b = await storage.createChild(rootId, { label: 'B' });
        const a1 = await storage.createChild(a.id, { label: 'A1', sourceSessionId: b.id });
        expect(a).toMatchObject({
          parentId: rootId,
          depth: 1,
          index: 0,
          label: 'A',
          scope: 'coding',
          tags: ['t1'],
          metadata: { k: 'v' },
          sourceSessionId: rootId,
          role: 'standard',
          status: 'active',
          turnCount: 0,
        });
        expect(b).toMatchObject({
          depth: 1,
          index: 1,
          scope: null,
          sourceSessionId: null,
          tags: [],
          metadata: {},
        });
        expect(a1).toMatchObject({ parentId: a.id, depth: 2, index: 0, sourceSessionId: b.id });
        expect(await storage.getSessionRow(a1.id)).toEqual(a1);
      });

      it('copies the parent system prompt unless one is given, and null leaves none', async () => {
        const { storage, rootId } = fx.current;
        await storage.putSystemPrompt(rootId, 'parent prompt');
        const copied = await storage.createChild(rootId, { label: 'copied' });
        const own = await storage.createChild(rootId, { label: 'own', systemPrompt: 'own prompt' });
        const none = await storage.createChild(rootId, { label: 'none', systemPrompt: null });
        expect(await storage.getSystemPrompt(copied.id)).toBe('parent prompt');
        expect(await storage.getSystemPrompt(own.id)).toBe('own prompt');
        expect(await storage.getSystemPrompt(none.id)).toBeNull();
      });

      it('seeds the child with records and copies nothing else', async () => {
        const { storage, rootId } = fx.current;
        await storage.putMemory(rootId, 'parent memory');
        await storage.putInsight(rootId, 'parent insight');
        const child = await storage.createChild(rootId, {
          label: 'seeded',
          records: [
            { role: 'user', content: 'inherited' },
            { role: 'assistant', content: 'opening' },
          ],
        });
        expect(strip(await storage.listRecords(child.id))).toEqual([
          { role: 'user', content: 'inherited' },
          { role: 'assistant', content: 'opening' },
        ]);
        expect(await storage.getMemory(child.id)).toBeNull();
        expect(await storage.getInsight(child.id)).toBeNull();
      });

      it('refuses a missing or archived parent', async () => {
        const { storage, rootId } = fx.current;
        await expectCode(
          storage.createChild('00000000-0000-4000-8000-000000000000', { label: 'x' }),
          'SESSION_NOT_FOUND',
        );
        const parent = await storage.createChild(rootId, { label: 'p' });
        const meta = (await storage.getSession(parent.id))!;
        await storage.putSession({ ...meta, status: 'archived' });
        await expectCode(storage.createChild(parent.id, { label: 'x' }), 'SESSION_ARCHIVED');
      });

      it('hands out distinct sibling indexes under concurrent calls', async () => {
        const { storage, rootId } = fx.current;
        const rows = await Promise.all(
          Array.from({ length: 8 }, (_, i) => storage.createChild(rootId, { label: `c${i}` })),
        );
        expect(rows.map((row) => row.index).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      });
    });

    describe('transaction', () => {
      it('commits every write of the function', async () => {
        const { storage, rootId } = fx.current;
        await storage.transaction(async (tx) => {
          await tx.putMemory(rootId, 'm');
          await tx.appendRecord(rootId, { role: 'user', content: 'r' });
        });
        expect(await storage.getMemory(rootId)).toBe('m');
        expect(await storage.listRecords(rootId)).toHaveLength(1);
      });

      it('rolls every write back when the function throws', async () => {
        const { storage, rootId } = fx.current;
        await storage.putMemory(rootId, 'before');
        await expect(
          storage.transaction(async (tx) => {
            await tx.putMemory(rootId, 'during');
            await tx.appendRecord(rootId, { role: 'user', content: 'lost' });
            await tx.createChild(rootId, { label: 'lost' });
            throw new Error('rollback please');
          }),
        ).rejects.toThrow('rollback please');
        expect(await storage.getMemory(rootId)).toBe('before');
        expect(await storage.listRecords(rootId)).toEqual([]);
        expect(await storage.getChildren(rootId)).toEqual([]);
      });
    });

    describe('space isolation', () => {
      it('treats the ids of another space as missing', async () => {
        const { storage, otherSpace } = fx.current;
        const foreignRoot = otherSpace.rootId;
        const foreign = await otherSpace.storage.createChild(foreignRoot, { label: 'secret' });
        await otherSpace.storage.putSystemPrompt(foreign.id, 'secret prompt');
        await otherSpace.storage.appendRecord(foreign.id, { role: 'user', content: 'secret' });
        expect(await storage.getSession(foreign.id)).toBeNull();
        expect(await storage.getSessionRow(foreign.id)).toBeNull();
        expect(await storage.listRecords(foreign.id)).toEqual([]);
        expect(await storage.getSystemPrompt(foreign.id)).toBeNull();
        expect(await storage.loadTurnContext(foreign.id, { maxRecords: 10 })).toBeNull();
        await expectCode(storage.putSystemPrompt(foreign.id, 'overwrite'), 'SESSION_NOT_FOUND');
        await expectCode(
          storage.appendRecord(foreign.id, { role: 'user', content: 'x' }),
          'SESSION_NOT_FOUND',
        );
        await expectCode(
          storage.commitTurn(foreign.id, { records: [{ role: 'user', content: 'x' }], countTurn: true }),
          'SESSION_NOT_FOUND',
        );
        await expectCode(storage.createChild(foreign.id, { label: 'x' }), 'SESSION_NOT_FOUND');
        const meta = (await otherSpace.storage.getSession(foreign.id))!;
        // Another space's id is never updated: PostgreSQL refuses the taken id (CONFLICT); an
        // in-memory space, which cannot see the other, may create its own session of that id.
        const outcome = await storage.putSession({ ...meta, label: 'hijack' }).then(
          () => 'created',
          (error: { code?: string }) => error.code,
        );
        expect(['CONFLICT', 'created']).toContain(outcome);
        expect(await otherSpace.storage.getSystemPrompt(foreign.id)).toBe('secret prompt');
        expect((await otherSpace.storage.getSession(foreign.id))!.label).toBe('secret');
        expect(await otherSpace.storage.listRecords(foreign.id)).toHaveLength(1);
      });
    });

    describe('turn ledger', () => {
      const user: Message = { role: 'user', content: 'q', timestamp: '2026-01-01T00:00:00.000Z' };
      const answer: Message = { role: 'assistant', content: 'a', timestamp: '2026-01-01T00:00:01.000Z' };
      const lease = (owner: string) => ({ owner, ttlMs: 60_000 });
      const claim = (turnId: string, requestHash = 'hash-1') => ({
        turnId,
        requestHash,
        concurrency: 'enqueue' as const,
      });

      it('claims a turn with the read, completes it with the commit, and replays it to a retry', async () => {
        const { storage, rootId } = fx.current;
        const { id } = await storage.createChild(rootId, { label: 'ledger' });
        const turnId = '00000000-0000-4000-8000-00000000a001';
        const ctx = await storage.loadTurnContext(id, {
          maxRecords: 10,
          lease: lease('o1'),
          turn: claim(turnId),
        });
        expect(ctx?.finishedTurn).toBeUndefined();
        expect(await storage.getTurn!(id, turnId)).toMatchObject({ status: 'running' });
        await storage.commitTurn(id, {
          records: [user, answer],
          countTurn: true,
          expectedTurnCount: ctx!.turnCount,
          releaseLease: 'o1',
          turn: { turnId, result: { turn: { finalContent: 'a' } }, lastSeq: 3 },
        });
        expect(await storage.getTurn!(id, turnId)).toEqual({
          turnId,
          sessionId: id,
          status: 'completed',
          result: { turn: { finalContent: 'a' } },
          lastSeq: 3,
        });
        const retry = await storage.loadTurnContext(id, {
          maxRecords: 10,
          lease: lease('o2'),
          turn: claim(turnId),
        });
        expect(retry?.finishedTurn).toMatchObject({
          status: 'completed',
          result: { turn: { finalContent: 'a' } },
        });
        // The retry took no lease: another owner begins at once.
        await storage.loadTurnContext(id, { maxRecords: 10, lease: lease('o3') });
        await expectCode(
          storage.loadTurnContext(id, { maxRecords: 10, lease: lease('o4'), turn: claim(turnId, 'hash-2') }),
          'TURN_ID_CONFLICT',
        );
      });

      it('names the running turn when busy, queues a waiting turn and cancels it', async () => {
        const { storage, rootId } = fx.current;
        const { id } = await storage.createChild(rootId, { label: 'busy' });
        const running = '00000000-0000-4000-8000-00000000b001';
        const waiting = '00000000-0000-4000-8000-00000000b002';
        await storage.loadTurnContext(id, { maxRecords: 10, lease: lease('o1'), turn: claim(running) });
        const busy = await storage
          .loadTurnContext(id, { maxRecords: 10, lease: lease('o2'), turn: claim(waiting) })
          .catch((error: unknown) => error);
        expect(busy).toMatchObject({ code: 'SESSION_BUSY', details: { turnId: running } });
        expect(await storage.getTurn!(id, waiting)).toMatchObject({ status: 'queued' });
        expect(await storage.requestTurnCancel!(id, waiting)).toBe('cancelled');
        expect(await storage.getTurn!(id, waiting)).toMatchObject({ status: 'cancelled' });
      });

      it('refuses the commit of a turn whose cancel was requested, writing nothing', async () => {
        const { storage, rootId } = fx.current;
        const { id } = await storage.createChild(rootId, { label: 'fenced' });
        await storage.putInsight(id, 'kept');
        const turnId = '00000000-0000-4000-8000-00000000c001';
        const ctx = await storage.loadTurnContext(id, {
          maxRecords: 10,
          lease: lease('o1'),
          turn: claim(turnId),
        });
        expect(await storage.requestTurnCancel!(id, turnId)).toBe('cancelled');
        await expectCode(
          storage.commitTurn(id, {
            records: [user, answer],
            countTurn: true,
            consumeInsight: 'kept',
            expectedTurnCount: ctx!.turnCount,
            releaseLease: 'o1',
            turn: { turnId, result: { turn: {} } },
          }),
          'TURN_CANCELLED',
        );
        expect(await storage.listRecords(id)).toEqual([]);
        expect(await storage.getInsight(id)).toBe('kept');
        // It reads cancelled, and a retry of it gets the cancel without waiting for its lease.
        expect(await storage.getTurn!(id, turnId)).toMatchObject({ status: 'cancelled' });
        const retry = await storage.loadTurnContext(id, {
          maxRecords: 10,
          lease: lease('o9'),
          turn: claim(turnId),
        });
        expect(retry?.finishedTurn).toMatchObject({ status: 'cancelled' });
        // An unknown id is cancelled ahead: a late claim of it finds it ended.
        const ahead = '00000000-0000-4000-8000-00000000c002';
        await storage.releaseTurnLease(id, 'o1');
        expect(await storage.requestTurnCancel!(id, ahead)).toBe('cancelled');
        const late = await storage.loadTurnContext(id, {
          maxRecords: 10,
          lease: lease('o2'),
          turn: claim(ahead),
        });
        expect(late?.finishedTurn).toMatchObject({ status: 'cancelled' });
      });
    });
  });
}
