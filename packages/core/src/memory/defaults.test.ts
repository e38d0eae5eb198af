import type { ChildL2Summary, LLMCallFn, Message } from '@stello-ai/session';
import { describe, expect, it, vi } from 'vitest';
import {
  createDefaultConsolidateFn,
  createDefaultIntegrateFn,
  DEFAULT_INTEGRATION_BUDGET_CHARS,
  DEFAULT_INTEGRATION_CHILD_CHARS,
  DEFAULT_MEMORY_MAX_CHARS,
  DEFAULT_TRANSCRIPT_BUDGET_CHARS,
  integrationLines,
  stripThinking,
} from './defaults';

const children: ChildL2Summary[] = [
  { sessionId: 's-1', label: 'Trip', l2: 'Planning a trip to Rome.' },
  { sessionId: 's-2', label: 'Budget', l2: 'Monthly budget of 2000 EUR.' },
];

describe('createDefaultConsolidateFn', () => {
  it('sends the prompt, the current summary and the messages, and returns the cleaned reply', async () => {
    const llm = vi.fn<LLMCallFn>(async () => '<think>hmm\nlet me see</think>\n  New summary.  ');
    const consolidate = createDefaultConsolidateFn('SUMMARIZE', llm);
    const messages: Message[] = [
      { role: 'user', content: 'weather?' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c', name: 'weather', input: { city: 'Oslo' } }] },
      { role: 'tool', content: 'clear', toolCallId: 'c' },
      { role: 'assistant', content: 'It is clear.' },
    ];

    const memory = await consolidate('Old summary.', messages);

    expect(memory).toBe('New summary.');
    const [prompt] = llm.mock.calls[0] ?? [];
    expect(prompt?.[0]).toEqual({ role: 'system', content: 'SUMMARIZE' });
    expect(prompt?.[1]?.role).toBe('user');
    expect(prompt?.[1]?.content).toContain('Current summary:\nOld summary.');
    expect(prompt?.[1]?.content).toContain('user: weather?');
    expect(prompt?.[1]?.content).toContain('weather({"city":"Oslo"})');
    expect(prompt?.[1]?.content).toContain('assistant: It is clear.');
  });

  it('keeps the newest messages within the transcript budget', async () => {
    const llm = vi.fn<LLMCallFn>(async () => 'ok');
    const long = 'x'.repeat(DEFAULT_TRANSCRIPT_BUDGET_CHARS / 2);
    const messages: Message[] = [
      { role: 'user', content: `oldest ${long}` },
      { role: 'user', content: `middle ${long}` },
      { role: 'user', content: 'newest' },
    ];

    await createDefaultConsolidateFn('P', llm)(null, messages);

    const content = llm.mock.calls[0]?.[0][1]?.content ?? '';
    expect(content).toContain('newest');
    expect(content).toContain('middle');
    expect(content).not.toContain('oldest');
    expect(content).toContain('(older messages omitted)');
  });

  it('caps the memory it keeps and the current summary it sends, on whole characters', async () => {
    const long = `${'字'.repeat(DEFAULT_MEMORY_MAX_CHARS - 1)}😀tail`;
    const llm = vi.fn<LLMCallFn>(async () => long);
    const consolidate = createDefaultConsolidateFn('prompt', llm);

    const memory = await consolidate(long, [{ role: 'user', content: 'hi' }]);

    expect(memory).toBe('字'.repeat(DEFAULT_MEMORY_MAX_CHARS - 1));
    const sent = llm.mock.calls[0]![0][1]!.content;
    expect(sent).toContain(`Current summary:\n${'字'.repeat(DEFAULT_MEMORY_MAX_CHARS - 1)}\n`);
    expect(sent).not.toContain('tail');
  });

  it('rejects an empty reply', async () => {
    const consolidate = createDefaultConsolidateFn('P', async () => '<think>only thoughts</think>');

    await expect(consolidate(null, [{ role: 'user', content: 'hi' }])).rejects.toMatchObject({
      code: 'INVALID_MODEL_REPLY',
    });
  });
});

describe('createDefaultIntegrateFn', () => {
  it('sends one tagged line per child and parses the first json object of the reply', async () => {
    const llm = vi.fn<LLMCallFn>(
      async () =>
        'Sure! {"synthesis": "Trip and budget {linked}", "insights": [{"sessionId": "s-1", "content": "Mind the budget."}]} trailing {"x":1}',
    );

    const result = await createDefaultIntegrateFn('INTEGRATE', llm)(children, 'Old synthesis.');

    expect(result).toEqual({
      synthesis: 'Trip and budget {linked}',
      insights: [{ sessionId: 's-1', content: 'Mind the budget.' }],
    });
    const prompt = llm.mock.calls[0]?.[0];
    expect(prompt?.[0]).toEqual({ role: 'system', content: 'INTEGRATE' });
    expect(prompt?.[1]?.content).toContain('Current synthesis:\nOld synthesis.');
    expect(prompt?.[1]?.content).toContain('- [sessionId=s-1] Trip: Planning a trip to Rome.');
    expect(prompt?.[1]?.content).toContain('- [sessionId=s-2] Budget: Monthly budget of 2000 EUR.');
  });

  it('drops insights for unknown ids, duplicates and empty ones', async () => {
    const reply = JSON.stringify({
      synthesis: ' all ',
      insights: [
        { sessionId: 'ghost', content: 'nobody' },
        { sessionId: 's-2', content: '   ' },
        { sessionId: 's-2', content: 'save more' },
        { sessionId: 's-2', content: 'again' },
      ],
    });

    const result = await createDefaultIntegrateFn('P', async () => `<think>{"not": "this"}</think>${reply}`)(
      children,
      null,
    );

    expect(result).toEqual({ synthesis: 'all', insights: [{ sessionId: 's-2', content: 'save more' }] });
  });

  it('accepts a reply without insights', async () => {
    const result = await createDefaultIntegrateFn('P', async () => '{"synthesis":"only this"}')(
      children,
      null,
    );

    expect(result).toEqual({ synthesis: 'only this', insights: [] });
  });

  it.each([
    ['no json at all', 'I cannot do that.'],
    ['an unterminated object', '{"synthesis": "half'],
    ['invalid json', '{synthesis: nope}'],
    ['a missing synthesis', '{"insights": []}'],
    ['a wrong synthesis type', '{"synthesis": 3, "insights": []}'],
    ['insights that are not a list', '{"synthesis": "s", "insights": {"sessionId": "s-1"}}'],
    ['an insight without content', '{"synthesis": "s", "insights": [{"sessionId": "s-1"}]}'],
  ])('rejects %s', async (_name, reply) => {
    await expect(createDefaultIntegrateFn('P', async () => reply)(children, null)).rejects.toMatchObject({
      code: 'INVALID_MODEL_REPLY',
    });
  });
});

describe('stripThinking', () => {
  it('removes every think block and trims', () => {
    expect(stripThinking(' <think>a</think>x<THINK>b</THINK> y ')).toBe('x y');
  });
});

describe('integrationLines', () => {
  it('keeps the prompt of 600 long child memories within the budget and counts the rest', () => {
    const children = Array.from({ length: 600 }, (_, index) => ({
      sessionId: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      label: `child ${index}`,
      l2: '记忆'.repeat(1_500),
    }));
    const lines = integrationLines(children);
    const total = lines.join('\n').length;
    expect(total).toBeLessThanOrEqual(DEFAULT_INTEGRATION_BUDGET_CHARS + 100);
    const shown = lines.filter((line) => line.startsWith('- [sessionId='));
    expect(shown.length).toBeGreaterThan(10);
    expect(shown.every((line) => line.length < DEFAULT_INTEGRATION_CHILD_CHARS + 120)).toBe(true);
    expect(lines.at(-1)).toBe(`(${600 - shown.length} more sessions not shown: over the input budget)`);
  });

  it('sends every child whole when they fit, and never splits a surrogate pair', () => {
    const lines = integrationLines([{ sessionId: 's1', label: 'a', l2: `${'x'.repeat(1_999)}😀tail` }]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(`- [sessionId=s1] a: ${'x'.repeat(1_999)}…`);
    expect(integrationLines([{ sessionId: 's2', label: 'b', l2: 'short' }])).toEqual([
      '- [sessionId=s2] b: short',
    ]);
  });
});
