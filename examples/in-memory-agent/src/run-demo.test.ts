import { describe, expect, it } from 'vitest';
import { runDemo } from './run-demo';

describe('runDemo', () => {
  it('runs a turn, a tool call, a fork and a streamed turn in memory', async () => {
    const lines: string[] = [];
    const result = await runDemo((line) => lines.push(line));

    expect(result.greeting).toEqual(expect.any(String));
    expect(result.toolTurn.toolCallsExecuted).toBe(1);
    expect(result.toolCalls).toEqual([{ city: 'Lisbon' }]);
    expect(result.toolTurn.finalContent).toContain('sunny');

    expect(result.streamed.chunks.length).toBeGreaterThan(1);
    expect(result.streamed.chunks.join('')).toBe(result.streamed.finalContent);

    expect(result.tree.id).toBe(result.rootId);
    expect(result.tree.children.map((node) => node.id)).toEqual([result.childId]);
    expect(result.tree.children[0]).toMatchObject({ label: 'Food', depth: 1, scope: 'restaurants' });
    expect(lines.some((line) => line.startsWith('food  > '))).toBe(true);
  });
});
