import { createScriptedLLM } from '@internal/testing/scripted-llm';
import { describe, expect, it, vi } from 'vitest';
import { isCodedError } from '../errors';
import { InMemoryStorageAdapter } from '../in-memory/in-memory-storage';
import type { IntegrateResult } from '../types';
import { createMainSession, loadMainSession, validateIntegrateResult } from './main-session';
import { createSession } from './session';

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(isCodedError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
}

async function setup() {
  const storage = new InMemoryStorageAdapter();
  const llm = createScriptedLLM([{ content: 'root answer' }]);
  const main = await createMainSession({ storage, llm, label: 'Space', systemPrompt: 'root prompt' });
  const a = await createSession({ storage, parentId: main.id, label: 'A' });
  const b = await createSession({ storage, parentId: main.id, label: 'B' });
  const deep = await createSession({ storage, parentId: a.id, label: 'A.1' });
  return { storage, llm, main, a, b, deep };
}

describe('createMainSession', () => {
  it('creates the root with its system prompt', async () => {
    const { storage, main } = await setup();
    expect(await main.row()).toMatchObject({ role: 'main', depth: 0, parentId: null, label: 'Space' });
    expect(await storage.getSystemPrompt(main.id)).toBe('root prompt');
  });

  it('refuses a second main session in the same space', async () => {
    const { storage } = await setup();
    await expectCode(createMainSession({ storage, label: 'Another' }), 'INVALID_ARGUMENT');
    expect(await storage.listSessions({ role: 'main' })).toHaveLength(1);
  });
});

describe('loadMainSession', () => {
  it('returns null for an unknown id and refuses a standard session', async () => {
    const { storage, main, a } = await setup();
    expect(await loadMainSession('missing', { storage })).toBeNull();
    await expectCode(loadMainSession(a.id, { storage }), 'NOT_MAIN_SESSION');
    expect((await loadMainSession(main.id, { storage }))?.id).toBe(main.id);
  });
});

describe('MainSession.send', () => {
  it('shows the synthesis and no identity line or insight', async () => {
    const { storage, llm, main } = await setup();
    await storage.putMemory(main.id, 'everything so far');
    await storage.putInsight(main.id, 'not for the root');
    await main.send('status?');
    expect(llm.calls[0]!.messages.map((m) => [m.role, m.content])).toEqual([
      ['system', 'root prompt'],
      ['system', expect.stringContaining('everything so far')],
      ['user', 'status?'],
    ]);
    expect(await storage.getInsight(main.id)).toBe('not for the root');
  });
});

describe('MainSession.integrate', () => {
  it('passes active children L2s and the synthesis, writes synthesis and insights, drops unknown ids', async () => {
    const { storage, main, a, b, deep } = await setup();
    await storage.putMemory(a.id, 'L2 of A');
    await storage.putMemory(b.id, 'L2 of B');
    await storage.putMemory(deep.id, 'L2 of A.1');
    await storage.putMemory(main.id, 'old synthesis');
    await b.archive();
    const commit = vi.spyOn(storage, 'commitIntegration');
    const fn = vi.fn(
      async (): Promise<IntegrateResult> => ({
        synthesis: 'new synthesis',
        insights: [
          { sessionId: a.id, content: 'insight for A' },
          { sessionId: deep.id, content: 'insight for A.1' },
          { sessionId: b.id, content: 'archived, not a child input' },
          { sessionId: 'ghost', content: 'unknown' },
        ],
      }),
    );
    const result = await main.integrate(fn);
    expect(fn).toHaveBeenCalledWith(
      [
        { sessionId: a.id, label: 'A', l2: 'L2 of A' },
        { sessionId: deep.id, label: 'A.1', l2: 'L2 of A.1' },
      ],
      'old synthesis',
    );
    expect(result).toEqual({
      synthesis: 'new synthesis',
      insights: [
        { sessionId: a.id, content: 'insight for A' },
        { sessionId: deep.id, content: 'insight for A.1' },
      ],
    });
    expect(commit).toHaveBeenCalledTimes(1);
    expect(await main.synthesis()).toBe('new synthesis');
    expect(await storage.getInsight(a.id)).toBe('insight for A');
    expect(await storage.getInsight(deep.id)).toBe('insight for A.1');
    expect(await storage.getInsight(b.id)).toBeNull();
  });

  it('rejects a malformed result and writes nothing', async () => {
    const { storage, main, a } = await setup();
    await storage.putMemory(a.id, 'L2');
    await storage.putMemory(main.id, 'keep');
    const malformed: unknown[] = [
      null,
      'text',
      { synthesis: 'x' },
      { synthesis: 3, insights: [] },
      { synthesis: 'x', insights: [{ sessionId: a.id }] },
      { synthesis: 'x', insights: [{ sessionId: a.id, content: 'ok' }, 'bad'] },
    ];
    for (const value of malformed) {
      await expectCode(
        main.integrate(async () => value as IntegrateResult),
        'INVALID_ARGUMENT',
      );
    }
    expect(await main.synthesis()).toBe('keep');
    expect(await storage.getInsight(a.id)).toBeNull();
  });

  it('is refused on an archived main session', async () => {
    const { main } = await setup();
    await main.archive();
    const fn = vi.fn(async () => ({ synthesis: 's', insights: [] }));
    await expectCode(main.integrate(fn), 'SESSION_ARCHIVED');
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('validateIntegrateResult', () => {
  it('keeps only the known fields', () => {
    expect(
      validateIntegrateResult({
        synthesis: 's',
        insights: [{ sessionId: 'a', content: 'c', extra: 1 }],
        more: 2,
      }),
    ).toEqual({ synthesis: 's', insights: [{ sessionId: 'a', content: 'c' }] });
  });
});
