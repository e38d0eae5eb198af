import type { LLMChunk } from '../llm/llm';

/** Drains a stream of chunks into an array. */
export async function collectChunks(stream: AsyncIterable<LLMChunk>): Promise<LLMChunk[]> {
  const chunks: LLMChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** Accumulates tool-call deltas by index the way the session does (input text concatenated). */
export function accumulateToolCalls(chunks: LLMChunk[]): { id?: string; name?: string; input: string }[] {
  const calls = new Map<number, { id?: string; name?: string; input: string }>();
  for (const delta of chunks.flatMap((chunk) => chunk.toolCallDeltas ?? [])) {
    const call = calls.get(delta.index) ?? { input: '' };
    if (delta.id) call.id = delta.id;
    if (delta.name) call.name = delta.name;
    call.input += delta.input ?? '';
    calls.set(delta.index, call);
  }
  return [...calls.values()];
}
