import { describe, expect, it } from 'vitest';
import { estimateTextTokens } from '../tokens/estimate-text-tokens';
import type { TokenCounter } from '../tokens/token-counter';
import type { Message } from '../types';
import {
  assembleTurnPrompt,
  estimateMessageTokens,
  estimateTokens,
  identityLine,
  removeIncompleteToolCallGroups,
  selectHistoryByBudget,
  type TurnPromptInput,
} from './context';

const user = (content: string): Message => ({ role: 'user', content });
const assistant = (content: string): Message => ({ role: 'assistant', content });
const callMsg = (...ids: string[]): Message => ({
  role: 'assistant',
  content: '',
  toolCalls: ids.map((id) => ({ id, name: 'lookup', input: { q: id } })),
});
const result = (id: string, content = `result ${id}`): Message => ({ role: 'tool', content, toolCallId: id });

function input(overrides: Partial<TurnPromptInput> = {}): TurnPromptInput {
  return {
    role: 'standard',
    label: 'Research',
    systemPrompt: 'You are helpful.',
    insight: null,
    memory: null,
    records: [],
    hasOlderRecords: false,
    user: user('new question'),
    pending: [],
    maxContextTokens: 100_000,
    ...overrides,
  };
}

describe('estimateTokens', () => {
  it('counts the content with the script-aware estimate plus 4 per message', () => {
    expect(estimateMessageTokens(user(''))).toBe(4);
    expect(estimateMessageTokens(user('hello world'))).toBe(estimateTextTokens('hello world') + 4);
    expect(estimateMessageTokens(user('你好世界'))).toBe(estimateTextTokens('你好世界') + 4);
    expect(estimateTokens([user('abcd'), user('你好')])).toBe(
      estimateTextTokens('abcd') + estimateTextTokens('你好') + 8,
    );
  });

  it('counts tool calls and tool call ids when present', () => {
    const withCall = callMsg('c1');
    expect(estimateMessageTokens(withCall)).toBe(
      estimateTextTokens(withCall.content) + estimateTextTokens(JSON.stringify(withCall.toolCalls)) + 4,
    );
    expect(estimateMessageTokens(result('c1', ''))).toBe(estimateTextTokens('c1') + 4);
  });

  it('counts with the counter it is given', () => {
    const counter: TokenCounter = {
      name: 'estimate',
      count: (text) => text.length * 10,
      load: async () => {},
    };
    expect(estimateMessageTokens(user('abc'), counter)).toBe(34);
  });
});

describe('removeIncompleteToolCallGroups', () => {
  it('keeps complete groups and plain messages in order', () => {
    const records = [user('q'), callMsg('a', 'b'), result('a'), result('b'), assistant('done')];
    expect(removeIncompleteToolCallGroups(records)).toEqual(records);
  });

  it('drops a whole group when one of its results is missing', () => {
    const records = [user('q'), callMsg('a', 'b'), result('a'), assistant('after')];
    expect(removeIncompleteToolCallGroups(records)).toEqual([user('q'), assistant('after')]);
  });

  it('drops an assistant tool call with no results at the end of the history', () => {
    const records = [user('q'), assistant('a1'), user('q2'), callMsg('x')];
    expect(removeIncompleteToolCallGroups(records)).toEqual([user('q'), assistant('a1'), user('q2')]);
  });

  it('drops tool messages whose call is not right before them', () => {
    const records = [
      result('lost'),
      user('q'),
      assistant('a'),
      result('a'),
      callMsg('k'),
      result('k'),
      result('zz'),
    ];
    expect(removeIncompleteToolCallGroups(records)).toEqual([
      user('q'),
      assistant('a'),
      callMsg('k'),
      result('k'),
    ]);
  });
});

describe('selectHistoryByBudget', () => {
  it('returns the newest suffix that fits', () => {
    const records = [user('aaaa'), assistant('bbbb'), user('cccc'), assistant('dddd')];
    // Each message costs 5 tokens.
    expect(selectHistoryByBudget(records, 10)).toEqual(records.slice(2));
    expect(selectHistoryByBudget(records, 14)).toEqual(records.slice(2));
    expect(selectHistoryByBudget(records, 15)).toEqual(records.slice(1));
    expect(selectHistoryByBudget(records, 0)).toEqual([]);
  });

  it('never starts inside a tool-call group', () => {
    const group = [callMsg('a'), result('a', 'x'.repeat(40))];
    const records = [user('q'), ...group, assistant('done')];
    const tailCost = estimateTokens([records[2]!, records[3]!]);
    // The budget covers the tool result and the final answer, but not the assistant call.
    const selected = selectHistoryByBudget(records, tailCost);
    expect(selected).toEqual([assistant('done')]);
    expect(selectHistoryByBudget(records, estimateTokens(records.slice(1)))).toEqual(records.slice(1));
  });
});

describe('assembleTurnPrompt', () => {
  it('orders system, identity, insight, history, user and pending for a standard session', () => {
    const history = [user('old q'), assistant('old a')];
    const pending = [callMsg('p1'), result('p1')];
    const prompt = assembleTurnPrompt(
      input({ insight: 'look at X', memory: 'L2 text', records: history, pending }),
    );
    expect(prompt.messages.map((m) => m.role)).toEqual([
      'system',
      'system',
      'system',
      'user',
      'assistant',
      'user',
      'assistant',
      'tool',
    ]);
    expect(prompt.messages[0]!.content).toBe('You are helpful.');
    expect(prompt.messages[1]!.content).toBe(identityLine('Research'));
    expect(prompt.messages[1]!.content).toContain('"Research"');
    expect(prompt.messages[2]!.content).toMatch(/^Insight from the main session/);
    expect(prompt.messages[2]!.content).toContain('look at X');
    expect(prompt.messages.slice(3, 5)).toEqual(history);
    expect(prompt.messages[5]).toEqual(user('new question'));
    expect(prompt.messages.slice(6)).toEqual(pending);
    // History fits: the L2 is not shown.
    expect(prompt.memoryShown).toBe(false);
    expect(prompt.messages.some((m) => m.content.includes('L2 text'))).toBe(false);
    expect(prompt.insightShown).toBe('look at X');
    expect(prompt.trimmed).toBe(false);
  });

  it('skips an empty system prompt and an empty insight', () => {
    const prompt = assembleTurnPrompt(input({ systemPrompt: '  ', insight: '' }));
    expect(prompt.messages).toEqual([
      { role: 'system', content: identityLine('Research') },
      user('new question'),
    ]);
    expect(prompt.insightShown).toBeNull();
  });

  it('gives the main session its synthesis and no identity line or insight', () => {
    const prompt = assembleTurnPrompt(
      input({ role: 'main', insight: 'should not show', memory: 'the synthesis', records: [user('h')] }),
    );
    expect(prompt.messages).toHaveLength(4);
    expect(prompt.messages[0]!.content).toBe('You are helpful.');
    expect(prompt.messages[1]!.role).toBe('system');
    expect(prompt.messages[1]!.content).toContain('the synthesis');
    expect(prompt.messages.slice(2)).toEqual([user('h'), user('new question')]);
    expect(prompt.insightShown).toBeNull();
  });

  it('adds the L2 and the newest history that fits when the history exceeds the budget', () => {
    const history = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0 ? user(`q${i} ${'x'.repeat(36)}`) : assistant(`a${i} ${'y'.repeat(36)}`),
    );
    const base = input({ memory: 'summary of old stuff', records: history, maxContextTokens: 200 });
    const prompt = assembleTurnPrompt(base);
    const total = Math.floor(0.8 * 200);
    expect(prompt.trimmed).toBe(true);
    expect(prompt.memoryShown).toBe(true);
    const memoryIndex = prompt.messages.findIndex((m) => m.content.includes('summary of old stuff'));
    expect(memoryIndex).toBe(2);
    const kept = prompt.messages.slice(memoryIndex + 1, -1);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept).toEqual(history.slice(history.length - kept.length));
    expect(estimateTokens(prompt.messages)).toBeLessThanOrEqual(total);
    // One more history message would not have fitted.
    const oneMore = history[history.length - kept.length - 1]!;
    expect(estimateTokens(prompt.messages) + estimateMessageTokens(oneMore)).toBeGreaterThan(total);
  });

  it('trims without an L2 block when the session has no L2', () => {
    const history = Array.from({ length: 20 }, (_, i) => user(`message ${i} ${'z'.repeat(40)}`));
    const prompt = assembleTurnPrompt(input({ records: history, maxContextTokens: 200 }));
    expect(prompt.trimmed).toBe(true);
    expect(prompt.memoryShown).toBe(false);
    expect(prompt.messages.filter((m) => m.role === 'system')).toHaveLength(2);
    const kept = prompt.messages.slice(2, -1);
    expect(kept).toEqual(history.slice(history.length - kept.length));
    expect(estimateTokens(prompt.messages)).toBeLessThanOrEqual(160);
  });

  it('computes the history budget from everything that is not history', () => {
    const pending = [callMsg('p'), result('p')];
    const base = input({ insight: 'ins', pending, maxContextTokens: 1000, budgetRatio: 0.5 });
    const prompt = assembleTurnPrompt(base);
    const nonHistory = estimateTokens(prompt.messages);
    expect(prompt.historyBudget).toBe(500 - nonHistory);
  });

  it('leaves the window room for the output tokens the call asks for', () => {
    const base = input({ maxContextTokens: 1000, budgetRatio: 0.8 });
    const nonHistory = estimateTokens(assembleTurnPrompt(base).messages);
    expect(assembleTurnPrompt({ ...base, maxOutputTokens: 100 }).historyBudget).toBe(800 - nonHistory);
    expect(assembleTurnPrompt({ ...base, maxOutputTokens: 300 }).historyBudget).toBe(700 - nonHistory);
    // A cap above the window reserves half of it, not all.
    expect(assembleTurnPrompt({ ...base, maxOutputTokens: 4096 }).historyBudget).toBe(500 - nonHistory);
  });

  it('keeps the newest history within historyTokenCap, as a retry after an overflow asks', () => {
    const history = Array.from({ length: 10 }, (_, i) => user(`message ${i} ${'z'.repeat(40)}`));
    const full = assembleTurnPrompt(input({ records: history, maxContextTokens: 100_000 }));
    expect(full.historyCount).toBe(10);
    const capped = assembleTurnPrompt(
      input({
        records: history,
        maxContextTokens: 100_000,
        historyTokenCap: Math.floor(full.historyTokens / 2),
      }),
    );
    expect(capped.trimmed).toBe(true);
    expect(capped.historyCount).toBe(5);
    expect(capped.messages.slice(2, -1)).toEqual(history.slice(5));
  });

  it('never gives the history a negative budget', () => {
    const prompt = assembleTurnPrompt(
      input({
        systemPrompt: 'x'.repeat(4000),
        records: [user('h1'), assistant('h2')],
        maxContextTokens: 100,
      }),
    );
    expect(prompt.historyBudget).toBe(0);
    expect(prompt.historyCount).toBe(0);
    expect(prompt.messages.at(-1)).toEqual(user('new question'));
  });

  it('shows the L2 when older records exist beyond the window even if the window fits', () => {
    const prompt = assembleTurnPrompt(
      input({ memory: 'older summary', records: [user('h')], hasOlderRecords: true }),
    );
    expect(prompt.memoryShown).toBe(true);
    expect(prompt.messages.map((m) => m.content)).toEqual([
      'You are helpful.',
      identityLine('Research'),
      expect.stringContaining('older summary'),
      'h',
      'new question',
    ]);
  });

  it('does not add an L2 block to the main session when trimming', () => {
    const history = Array.from({ length: 30 }, (_, i) => user(`m${i} ${'w'.repeat(40)}`));
    const prompt = assembleTurnPrompt(
      input({ role: 'main', memory: 'synth', records: history, maxContextTokens: 200 }),
    );
    expect(prompt.trimmed).toBe(true);
    expect(prompt.memoryShown).toBe(false);
    expect(prompt.messages.filter((m) => m.content.includes('synth'))).toHaveLength(1);
  });

  it('keeps a tool-call group whole or leaves it out when trimming', () => {
    const history = [
      user('first'),
      callMsg('a', 'b'),
      result('a', 'r'.repeat(200)),
      result('b', 'r'.repeat(200)),
      assistant('answer'),
    ];
    for (let max = 40; max < 400; max += 7) {
      const prompt = assembleTurnPrompt(
        input({ systemPrompt: null, records: history, maxContextTokens: max }),
      );
      const kept = prompt.messages.slice(1, -1);
      const cleaned = removeIncompleteToolCallGroups(kept);
      expect(kept).toEqual(cleaned);
      expect(kept).toEqual(history.slice(history.length - kept.length));
    }
  });

  it('removes orphans from the history before assembling', () => {
    const history = [result('ghost'), user('q'), callMsg('open'), user('q2'), assistant('a2')];
    const prompt = assembleTurnPrompt(input({ systemPrompt: null, records: history }));
    expect(prompt.messages.slice(1, -1)).toEqual([user('q'), user('q2'), assistant('a2')]);
  });
});
