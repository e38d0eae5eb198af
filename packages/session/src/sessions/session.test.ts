import { createScriptedLLM } from '@internal/testing/scripted-llm';
import { describe, expect, it, vi } from 'vitest';
import { expectCode, expectSyncCode, setup, strip } from '../__fixtures__/session-setup';
import { createOfflineAdapter } from '../adapters';
import { isCodedError } from '../errors';
import { InMemoryStorageAdapter } from '../in-memory/in-memory-storage';
import type { Message } from '../types';
import { MAX_INHERITED_BYTES } from './inherited-records';
import { createSession, loadSession } from './session';

describe('createSession', () => {
  it('creates a child under the parent with the given system prompt', async () => {
    const { storage, main, child } = await setup();
    const row = await child.row();
    expect(row).toMatchObject({ parentId: main.id, depth: 1, index: 0, role: 'standard', label: 'Child' });
    expect(await storage.getSystemPrompt(child.id)).toBe('child prompt');
  });

  it('rejects an unknown parent with SESSION_NOT_FOUND', async () => {
    const storage = new InMemoryStorageAdapter();
    await expectCode(createSession({ storage, parentId: 'nope', label: 'x' }), 'SESSION_NOT_FOUND');
  });

  it('rejects bad context options with INVALID_ARGUMENT', async () => {
    const { storage, main } = await setup();
    await expectCode(
      createSession({ storage, parentId: main.id, context: { budgetRatio: 2 } }),
      'INVALID_ARGUMENT',
    );
  });
});

describe('loadSession', () => {
  it('returns null for an unknown id and the session for a known one', async () => {
    const { storage, child } = await setup();
    expect(await loadSession('missing', { storage })).toBeNull();
    const loaded = await loadSession(child.id, { storage });
    expect(loaded?.meta).toEqual(child.meta);
  });
});

describe('Session.fork', () => {
  it('creates a child under this session with tree fields, provenance and the parent system prompt', async () => {
    const llm = createScriptedLLM([{ content: 'from child' }]);
    const { storage, main, child } = await setup(llm);
    const first = await child.fork({ label: 'Sub A', scope: 'coding', tags: ['t'], metadata: { k: 1 } });
    const second = await child.fork({ label: 'Sub B', systemPrompt: 'own prompt' });
    const firstRow = await first.row();
    expect(firstRow).toMatchObject({
      parentId: child.id,
      depth: 2,
      index: 0,
      label: 'Sub A',
      scope: 'coding',
      tags: ['t'],
      metadata: { k: 1 },
      sourceSessionId: child.id,
      role: 'standard',
      status: 'active',
    });
    expect((await second.row()).index).toBe(1);
    expect(await first.systemPrompt()).toBe('child prompt');
    expect(await second.systemPrompt()).toBe('own prompt');
    const fromMain = await main.fork({ label: 'Top' });
    expect(await fromMain.row()).toMatchObject({ parentId: main.id, depth: 1, index: 1 });
    expect(await fromMain.systemPrompt()).toBe('root prompt');
    // The child inherits the parent's model.
    expect((await first.send('hi')).content).toBe('from child');
    expect(await storage.listRecords(child.id)).toEqual([]);
  });

  it('copies nothing by default and inherits records without broken tool-call groups', async () => {
    const { storage, child } = await setup();
    const history: Message[] = [
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'a', name: 't', input: {} }] },
      { role: 'tool', content: 'ra', toolCallId: 'a' },
      { role: 'assistant', content: 'a1' },
      { role: 'user', content: 'q2' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'b', name: 't', input: {} }] },
    ];
    for (const record of history) await storage.appendRecord(child.id, record);
    const empty = await child.fork({ label: 'none' });
    expect(await empty.messages()).toEqual([]);
    const inherited = await child.fork({ label: 'inherit', context: 'inherit', prompt: 'Let us dig in.' });
    expect(strip(await inherited.messages())).toEqual([
      ...strip(history.slice(0, 5)),
      { role: 'assistant', content: 'Let us dig in.' },
    ]);
    expect((await inherited.messages())[1]!.toolCalls).toEqual([{ id: 'a', name: 't', input: {} }]);
  });

  it('inherits at most the history window and the byte budget, newest records first', async () => {
    const { storage, child } = await setup();
    const big = 'x'.repeat(200 * 1024);
    // 8 records of 200 KiB (1.6 MiB), then 3 small ones: only the newest that fit in 1 MiB come along.
    for (let i = 0; i < 8; i++)
      await storage.appendRecord(child.id, { role: i % 2 ? 'assistant' : 'user', content: `${i}${big}` });
    for (const content of ['q', 'a', 'q2']) {
      await storage.appendRecord(child.id, { role: content === 'a' ? 'assistant' : 'user', content });
    }
    const inherited = await child.fork({ label: 'bounded', context: 'inherit' });
    const copied = await inherited.messages();
    const bytes = copied.reduce((sum, record) => sum + Buffer.byteLength(record.content), 0);
    expect(bytes).toBeLessThanOrEqual(MAX_INHERITED_BYTES);
    expect(copied.map((record) => record.content.slice(0, 1))).toEqual([
      '3',
      '4',
      '5',
      '6',
      '7',
      'q',
      'a',
      'q',
    ]);
  });

  it('seeds the child with what a context function returns', async () => {
    const { storage, child } = await setup();
    await storage.appendRecord(child.id, { role: 'user', content: 'keep' });
    await storage.appendRecord(child.id, { role: 'assistant', content: 'drop' });
    const seen: Message[][] = [];
    const forked = await child.fork({
      label: 'fn',
      context: (records) => {
        seen.push(records);
        return records.filter((r) => r.content === 'keep');
      },
    });
    expect(seen[0]).toHaveLength(2);
    expect(strip(await forked.messages())).toEqual([{ role: 'user', content: 'keep' }]);
  });

  it('uses the llm and tools given to fork', async () => {
    const parentLlm = createScriptedLLM([{ content: 'parent' }]);
    const childLlm = createScriptedLLM([{ content: 'override' }]);
    const { child } = await setup(parentLlm);
    const tools = [{ name: 't', description: 'd', inputSchema: { type: 'object' } }];
    const forked = await child.fork({ label: 'x', llm: childLlm, tools });
    expect((await forked.send('hi')).content).toBe('override');
    expect(childLlm.calls[0]!.options?.tools).toEqual(tools);
    expect(parentLlm.calls).toHaveLength(0);
  });
});

describe('Session archive refusals', () => {
  it('refuses turns and writes on an archived session and keeps its data readable', async () => {
    const llm = createScriptedLLM([{ content: 'before' }]);
    const { child } = await setup(llm);
    await child.send('q');
    await child.archive();
    await child.archive();
    expect(child.meta.status).toBe('archived');
    const refused: [string, () => Promise<unknown>][] = [
      ['send', () => child.send('x')],
      ['beginTurn', () => child.beginTurn('x')],
      ['fork', () => child.fork({ label: 'x' })],
      ['setSystemPrompt', () => child.setSystemPrompt('x')],
      ['setInsight', () => child.setInsight('x')],
      ['consolidate', () => child.consolidate(async () => 'x')],
      ['updateMeta', () => child.updateMeta({ label: 'x' })],
      ['trimRecords', () => child.trimRecords(0)],
    ];
    for (const [name, action] of refused) {
      const error = await action().then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(isCodedError(error, 'SESSION_ARCHIVED'), `${name} should be refused`).toBe(true);
    }
    expectSyncCode(() => child.stream('x'), 'SESSION_ARCHIVED');
    expect(await child.messages()).toHaveLength(2);
    expect(await child.systemPrompt()).toBe('child prompt');
  });

  it('refuses a turn on a session archived by someone else', async () => {
    const llm = createScriptedLLM();
    const { storage, child } = await setup(llm);
    const meta = (await storage.getSession(child.id))!;
    await storage.putSession({ ...meta, status: 'archived' });
    await expectCode(child.send('x'), 'SESSION_ARCHIVED');
    expect(llm.calls).toHaveLength(0);
  });
});

describe('Session.consolidate', () => {
  it('passes the current memory and every record to the function and stores the result', async () => {
    const { storage, child } = await setup();
    await storage.putMemory(child.id, 'old L2');
    await storage.appendRecord(child.id, { role: 'user', content: 'u' });
    await storage.appendRecord(child.id, { role: 'assistant', content: 'a' });
    const fn = vi.fn(async (memory: string | null, records: Message[]) => `${memory} + ${records.length}`);
    expect(await child.consolidate(fn)).toBe('old L2 + 2');
    expect(await child.memory()).toBe('old L2 + 2');
  });

  it('rejects a non-string result and writes nothing', async () => {
    const { child } = await setup();
    await expectCode(
      child.consolidate(async () => 42 as unknown as string),
      'INVALID_ARGUMENT',
    );
    expect(await child.memory()).toBeNull();
  });

  it('writes nothing when the function throws', async () => {
    const { storage, child } = await setup();
    await storage.putMemory(child.id, 'kept');
    await expect(child.consolidate(async () => Promise.reject(new Error('llm down')))).rejects.toThrow(
      'llm down',
    );
    expect(await child.memory()).toBe('kept');
  });

  it('is refused on the main session', async () => {
    const { main } = await setup();
    await expectCode(
      main.consolidate(async () => 'x'),
      'INVALID_ARGUMENT',
    );
    expect(await main.synthesis()).toBeNull();
  });
});

describe('Session meta and records', () => {
  it('updates label, tags and metadata', async () => {
    const { storage, child } = await setup();
    const updated = await child.updateMeta({ label: 'Renamed', tags: ['a'], metadata: { x: 1 } });
    expect(updated).toMatchObject({ label: 'Renamed', tags: ['a'], metadata: { x: 1 } });
    expect(await storage.getSession(child.id)).toMatchObject({ label: 'Renamed', tags: ['a'] });
    expect(child.meta.label).toBe('Renamed');
    await expectCode(child.updateMeta({ label: '' }), 'INVALID_ARGUMENT');
  });

  it('trims records and refuses a negative count', async () => {
    const { storage, child } = await setup();
    for (const content of ['1', '2', '3']) await storage.appendRecord(child.id, { role: 'user', content });
    await expectCode(child.trimRecords(-1), 'INVALID_ARGUMENT');
    await child.trimRecords(1);
    expect(strip(await child.messages())).toEqual([{ role: 'user', content: '3' }]);
  });

  it('reads and writes the system prompt and lists messages with options', async () => {
    const { storage, child } = await setup();
    await child.setSystemPrompt('new prompt');
    expect(await child.systemPrompt()).toBe('new prompt');
    for (const [role, content] of [
      ['user', 'u1'],
      ['assistant', 'a1'],
      ['user', 'u2'],
    ] as const) {
      await storage.appendRecord(child.id, { role, content });
    }
    expect(strip(await child.messages({ role: 'user' }))).toEqual([
      { role: 'user', content: 'u1' },
      { role: 'user', content: 'u2' },
    ]);
    expect(strip(await child.messages({ limit: 1, offset: 1 }))).toEqual([
      { role: 'assistant', content: 'a1' },
    ]);
  });
});

describe('Session with the offline adapter', () => {
  it('streams a turn end to end and stores exactly the streamed text', async () => {
    const { child } = await setup(createOfflineAdapter());
    const stream = child.stream('Tell me about trees.');
    let text = '';
    for await (const delta of stream) text += delta;
    const result = await stream.result;
    expect(text.length).toBeGreaterThan(0);
    expect(result.content).toBe(text);
    const stored = await child.messages();
    expect(stored.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(stored[1]).toMatchObject({ content: text, metadata: { model: 'offline' } });
  });
});
