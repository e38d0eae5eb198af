/**
 * Micro-measurement of the token counting a turn pays: assembles the prompt of a turn over a
 * 200-record history window (the default), freshly read each turn as storage does, with the old
 * chars/4 estimate, the script-aware estimate and js-tiktoken (first turn and later turns).
 *
 *   node --conditions=@stello-ai/source --import tsx packages/session/scripts/measure-prompt-assembly.ts
 */
import { assembleTurnPrompt } from '../src/context/context';
import { tiktokenCounter } from '../src/tokens/tiktoken-counter';
import { estimateTokenCounter, type TokenCounter } from '../src/tokens/token-counter';
import type { Message } from '../src/types';

const RECORDS = 200;
const TURNS = 200;
const SENTENCE = '我们今天讨论一下这个项目的整体架构，会话是最小的单位。Each session keeps its own history. ';

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * The window as a storage read returns it at `turn`: new objects and new strings every time, the
 * window sliding by the two records of the previous turn (`turn` / 100000 picks a scenario's texts).
 */
function history(turn: number): Message[] {
  return Array.from({ length: RECORDS }, (_, i) => ({
    role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
    content: [String(turn * 2 + i), SENTENCE.repeat(3)].join('：'),
  }));
}

const charsOverFour: TokenCounter = {
  name: 'estimate',
  count: (text) => Math.ceil(text.length / 4),
  load: () => Promise.resolve(),
};

function turnMs(counter: TokenCounter, turn: number, maxContextTokens: number): number {
  const records = history(turn);
  const start = performance.now();
  assembleTurnPrompt({
    role: 'standard',
    label: 'bench',
    systemPrompt: 'You are helpful.',
    insight: null,
    memory: null,
    records,
    hasOlderRecords: false,
    user: { role: 'user', content: `${turn} ${SENTENCE}` },
    pending: [],
    maxContextTokens,
    counter,
  });
  return performance.now() - start;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const o200k = tiktokenCounter('o200k_base');
  const loadStart = performance.now();
  await o200k.load();
  const loadMs = performance.now() - loadStart;
  // Warm the JIT on other texts so the first turn measures counting, not compilation.
  for (let turn = -50; turn < 0; turn += 1) turnMs(estimateTokenCounter, turn * 100_000, 128_000);
  print(`o200k_base rank file load (once per process): ${loadMs.toFixed(1)} ms`);
  for (const window of [128_000, 32_768]) {
    print(
      `window ${window}: prompt assembly over ${RECORDS} records (${SENTENCE.length * 3} chars each), ms per turn:`,
    );
    for (const [name, counter] of [
      ['chars/4 (before)', charsOverFour],
      ['script-aware estimate', estimateTokenCounter],
      ['o200k_base', o200k],
    ] as const) {
      const first = turnMs(counter, window * 100_000, window);
      const later: number[] = [];
      for (let turn = 1; turn <= TURNS; turn += 1)
        later.push(turnMs(counter, window * 100_000 + turn, window));
      print(
        `  ${name.padEnd(24)} first turn ${first.toFixed(2).padStart(7)}   later turns (median) ${median(later).toFixed(3)}`,
      );
    }
  }
}

await main();
