import { createScriptedLLM } from '@internal/testing/scripted-llm';
import { describe, expect, it, vi } from 'vitest';
import { expectCode, expectSyncCode, setup, strip } from '../__fixtures__/session-setup';

describe('Session.beginTurn', () => {
  it('runs a tool loop in memory and commits every record at once', async () => {
    const llm = createScriptedLLM([
      {
        content: null,
        toolCalls: [
          { id: 'a', name: 'calc', input: { x: 1 } },
          { id: 'b', name: 'calc', input: { x: 2 } },
        ],
      },
      { content: 'the answer is 3' },
    ]);
    const { storage, child } = await setup(llm);
    const commit = vi.spyOn(storage, 'commitTurn');
    const draft = await child.beginTurn('add them');
    const first = await draft.call();
    expect(first.toolCalls).toHaveLength(2);
    draft.addToolResults([
      { toolCallId: 'a', toolName: 'calc', content: '1' },
      { toolCallId: 'b', toolName: 'calc', content: 'failed', isError: true },
    ]);
    expect(await child.messages()).toEqual([]);
    const second = await draft.call();
    expect(second.content).toBe('the answer is 3');
    // The second prompt carries the pending records after the user message.
    expect(llm.calls[1]!.messages.slice(-4).map((m) => m.role)).toEqual([
      'user',
      'assistant',
      'tool',
      'tool',
    ]);
    const committed = await draft.commit();
    expect(committed.turnCount).toBe(1);
    expect(commit).toHaveBeenCalledTimes(1);
    const stored = await child.messages();
    expect(stored.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'tool', 'assistant']);
    expect(stored[2]).toMatchObject({ toolCallId: 'a', content: '1', metadata: { toolName: 'calc' } });
    expect(stored[3]).toMatchObject({ toolCallId: 'b', metadata: { toolName: 'calc', isError: true } });
  });

  it('refuses tool results for calls the model did not make', async () => {
    const llm = createScriptedLLM([{ content: null, toolCalls: [{ id: 'a', name: 't', input: {} }] }]);
    const { child } = await setup(llm);
    const draft = await child.beginTurn('go');
    expectSyncCode(
      () => draft.addToolResults([{ toolCallId: 'a', toolName: 't', content: 'early' }]),
      'INVALID_ARGUMENT',
    );
    await draft.call();
    expect(() => draft.addToolResults([{ toolCallId: 'a', toolName: 't', content: 'x' }])).not.toThrow();
    expectSyncCode(
      () => draft.addToolResults([{ toolCallId: 'a', toolName: 't', content: 'again' }]),
      'INVALID_ARGUMENT',
    );
    expectSyncCode(
      () => draft.addToolResults([{ toolCallId: 'zzz', toolName: 't', content: 'x' }]),
      'INVALID_ARGUMENT',
    );
  });

  it('refuses a model call while tool calls have no result, and a commit before any call', async () => {
    const llm = createScriptedLLM([{ content: null, toolCalls: [{ id: 'a', name: 't', input: {} }] }]);
    const { child } = await setup(llm);
    const draft = await child.beginTurn('go');
    await expectCode(draft.commit(), 'INVALID_ARGUMENT');
    await draft.call();
    await expectCode(draft.call(), 'INVALID_ARGUMENT');
  });

  it('throws TURN_CONFLICT when another turn committed first and writes nothing', async () => {
    const llm = createScriptedLLM([{ content: 'one' }, { content: 'two' }]);
    const { child } = await setup(llm);
    const first = await child.beginTurn('first');
    const second = await child.beginTurn('second');
    await first.call();
    await second.call();
    await first.commit();
    await expectCode(second.commit(), 'TURN_CONFLICT');
    expect(strip(await child.messages())).toEqual([
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'one' },
    ]);
    expect((await child.row()).turnCount).toBe(1);
  });

  it('writes nothing when a draft is dropped', async () => {
    const llm = createScriptedLLM([{ content: 'unused' }]);
    const { child } = await setup(llm);
    await child.setInsight('still here');
    const draft = await child.beginTurn('hello');
    await draft.call();
    expect(await child.messages()).toEqual([]);
    expect(await child.insight()).toBe('still here');
  });

  it('refuses a second commit', async () => {
    const { child } = await setup(createScriptedLLM());
    const draft = await child.beginTurn('x');
    await draft.call();
    await draft.commit();
    await expectCode(draft.commit(), 'INVALID_ARGUMENT');
  });
});

describe('Session turn lease', () => {
  const lease = (owner: string) => ({ owner, ttlMs: 60_000 });
  const claim = (owner: string) => ({ maxRecords: 10, lease: lease(owner) });

  it('takes the lease in beginTurn and releases it with the commit, without a release write', async () => {
    const { storage, child } = await setup(createScriptedLLM([{ content: 'one' }]));
    const load = vi.spyOn(storage, 'loadTurnContext');
    const release = vi.spyOn(storage, 'releaseTurnLease');
    const draft = await child.beginTurn('hello', { lease: lease('a') });
    expect(load).toHaveBeenCalledWith(child.id, { maxRecords: 200, lease: lease('a') });
    await expectCode(storage.loadTurnContext(child.id, claim('b')), 'SESSION_BUSY');
    await draft.call();
    await draft.commit();
    await draft.release();
    expect(release).not.toHaveBeenCalled();
    expect(await storage.loadTurnContext(child.id, claim('b'))).not.toBeNull();
    expect(strip(await child.messages())).toEqual([
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'one' },
    ]);
  });

  it('rejects beginTurn with SESSION_BUSY while another owner holds the lease', async () => {
    const { storage, child } = await setup(createScriptedLLM());
    await storage.loadTurnContext(child.id, claim('other'));
    await expectCode(child.beginTurn('x', { lease: lease('a') }), 'SESSION_BUSY');
    await expectCode(child.send('x', { lease: lease('a') }), 'SESSION_BUSY');
  });

  it('releases the lease once with release() and refuses the released draft', async () => {
    const { storage, child } = await setup(createScriptedLLM());
    const release = vi.spyOn(storage, 'releaseTurnLease');
    const draft = await child.beginTurn('x', { lease: lease('a') });
    await draft.release();
    await draft.release();
    expect(release).toHaveBeenCalledTimes(1);
    expect(release).toHaveBeenCalledWith(child.id, 'a');
    expect(await storage.loadTurnContext(child.id, claim('b'))).not.toBeNull();
    await expectCode(draft.call(), 'INVALID_ARGUMENT');
    await expectCode(draft.commit(), 'INVALID_ARGUMENT');
    expect(await draft.renewLease()).toBe(false);
  });

  it('keeps the lease after a failed commit until release()', async () => {
    const { storage, child } = await setup(createScriptedLLM([{ content: 'late' }]));
    const draft = await child.beginTurn('x', { lease: lease('a') });
    await draft.call();
    // A writer that takes no lease moves the turn count: the commit is refused.
    await storage.commitTurn(child.id, { records: [{ role: 'user', content: 'sneaked' }], countTurn: true });
    await expectCode(draft.commit(), 'TURN_CONFLICT');
    await expectCode(storage.loadTurnContext(child.id, claim('b')), 'SESSION_BUSY');
    await draft.release();
    expect(await storage.loadTurnContext(child.id, claim('b'))).not.toBeNull();
  });

  it('renews the lease while the draft holds it', async () => {
    const { storage, child } = await setup(createScriptedLLM());
    const renew = vi.spyOn(storage, 'renewTurnLease');
    const draft = await child.beginTurn('x', { lease: lease('a') });
    expect(await draft.renewLease()).toBe(true);
    expect(renew).toHaveBeenCalledWith(child.id, 'a', 60_000);
    const plain = await child.beginTurn('y');
    expect(await plain.renewLease()).toBe(false);
    await plain.release();
    expect(renew).toHaveBeenCalledTimes(1);
  });

  it('reports a failed release to onReleaseError and never rejects', async () => {
    const { storage, child } = await setup(createScriptedLLM());
    const failure = new Error('connection lost');
    vi.spyOn(storage, 'releaseTurnLease').mockRejectedValueOnce(failure);
    const reported: unknown[] = [];
    const draft = await child.beginTurn('x', {
      lease: {
        ...lease('a'),
        onReleaseError: (error) => {
          reported.push(error);
          throw new Error('a reporter that fails too');
        },
      },
    });
    await expect(draft.release()).resolves.toBeUndefined();
    expect(reported).toEqual([failure]);
  });

  it('releases the lease when send or stream fails, and keeps the turn error', async () => {
    const llm = createScriptedLLM([
      { error: new Error('provider down') },
      { error: new Error('down again') },
    ]);
    const { storage, child } = await setup(llm);
    await expectCode(child.send('x', { lease: lease('a') }), 'LLM_ERROR');
    expect(await storage.loadTurnContext(child.id, claim('b'))).not.toBeNull();
    await storage.releaseTurnLease(child.id, 'b');
    await expectCode(child.stream('y', { lease: lease('a') }).result, 'LLM_ERROR');
    expect(await storage.loadTurnContext(child.id, claim('b'))).not.toBeNull();
    expect(await child.messages()).toEqual([]);
  });

  it('releases the lease when send is aborted', async () => {
    const llm = createScriptedLLM([{ hangUntilAborted: true }]);
    const { storage, child } = await setup(llm);
    const controller = new AbortController();
    const sending = child.send('x', { signal: controller.signal, lease: lease('a') });
    await vi.waitFor(() => expect(llm.calls).toHaveLength(1));
    controller.abort();
    await expectCode(sending, 'ABORTED');
    expect(await storage.loadTurnContext(child.id, claim('b'))).not.toBeNull();
  });

  it('takes no lease on an archived session', async () => {
    const { storage, child } = await setup(createScriptedLLM());
    const release = vi.spyOn(storage, 'releaseTurnLease');
    await storage.putSession({ ...child.meta, status: 'archived' });
    await expectCode(child.beginTurn('x', { lease: lease('a') }), 'SESSION_ARCHIVED');
    expect(release).not.toHaveBeenCalled();
  });
});
