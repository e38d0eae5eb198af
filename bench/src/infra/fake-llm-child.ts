/**
 * Child process of the bench: two fake OpenAI-compatible servers on 127.0.0.1, one answering at
 * once (zero latency) and one behaving like a real model (by default 50 ms to the first token, 16
 * chunks 5 ms apart), as `BENCH_LLM` (JSON `LlmSettings`) says. It runs apart from the server under
 * test so its CPU is not charged to it.
 */
import { type FakeLLMServer, type FakeRequest, startFakeOpenAI } from '@internal/testing';
import { DEFAULT_LLM_SETTINGS, type LlmSettings } from '../sizes';
import { failStartup, serveRpc } from './rpc';

/** What the fake LLM child announces when ready. */
export interface FakeLlmInfo {
  /** `baseURL` of the zero-latency fake. */
  zeroBaseURL: string;
  /** `baseURL` of the realistic fake. */
  realisticBaseURL: string;
}

/** Counters of one fake server since the last reset. */
export interface FakeLlmCounters {
  requests: number;
  /** Messages in the prompts received (system, history and the new user message). */
  promptMessages: number;
  /** Characters of the prompts' message texts. */
  promptChars: number;
}

async function main(): Promise<void> {
  const settings: LlmSettings = { ...DEFAULT_LLM_SETTINGS, ...JSON.parse(process.env.BENCH_LLM ?? '{}') };
  const counters = { zero: emptyCounters(), realistic: emptyCounters() };
  const servers: { zero?: FakeLLMServer; realistic?: FakeLLMServer } = {};
  const track = (which: 'zero' | 'realistic') => (request: FakeRequest) => {
    const counter = counters[which];
    counter.requests += 1;
    const messages: { content?: unknown }[] = Array.isArray(request.body?.messages)
      ? request.body.messages
      : [];
    counter.promptMessages += messages.length;
    for (const message of messages)
      counter.promptChars += typeof message.content === 'string' ? message.content.length : 0;
    // The fake keeps every request it received; a long run would hold them all in memory.
    servers[which]?.requests.splice(0);
    return memoryWorkReply(messages) ?? {};
  };
  // Validation is skipped: it is the fake's own cost, not the server's, and it only checks shape.
  servers.zero = await startFakeOpenAI({
    script: track('zero'),
    chunkCount: settings.chunkCount,
    firstTokenLatencyMs: 0,
    chunkDelayMs: 0,
    validate: false,
  });
  servers.realistic = await startFakeOpenAI({
    script: track('realistic'),
    chunkCount: settings.chunkCount,
    firstTokenLatencyMs: settings.firstTokenMs,
    chunkDelayMs: settings.chunkDelayMs,
    validate: false,
  });
  const { zero, realistic } = servers;
  const info: FakeLlmInfo = { zeroBaseURL: zero.baseURL, realisticBaseURL: realistic.baseURL };
  serveRpc(
    {
      counters: () => ({ ...counters }),
      cpu: () => process.cpuUsage(),
      reset: () => {
        counters.zero = emptyCounters();
        counters.realistic = emptyCounters();
      },
      close: async () => {
        await Promise.all([zero.close(), realistic.close()]);
      },
    },
    info,
  );
}

/** A 120-word summary, the length the default consolidation prompt asks for. */
const SUMMARY = Array.from(
  { length: 12 },
  (_, i) => `Point ${i + 1}: the user weighs options, notes a decision and keeps one question open.`,
).join(' ');

/**
 * Replies to the default memory work as a model would: a consolidation gets a summary of the
 * length its prompt asks for, an integration a valid JSON reply with one insight per child it
 * names. The default echo would store the whole consolidation prompt as the memory (which then
 * grows with every run) and fail every integration, which measures the fake, not the server.
 */
function memoryWorkReply(messages: { content?: unknown }[]): { content: string } | null {
  const system = typeof messages[0]?.content === 'string' ? messages[0].content : '';
  const input = typeof messages[1]?.content === 'string' ? messages[1].content : '';
  if (system.startsWith('You maintain the memory of one conversation session')) return { content: SUMMARY };
  if (!system.startsWith('You are the coordinator of several conversation sessions')) return null;
  const ids = [...input.matchAll(/\[sessionId=([^\]]+)\]/g)].map((match) => match[1]!);
  const insights = ids.map((sessionId) => ({ sessionId, content: 'Another branch settled the budget.' }));
  return { content: JSON.stringify({ synthesis: SUMMARY, insights }) };
}

function emptyCounters(): FakeLlmCounters {
  return { requests: 0, promptMessages: 0, promptChars: 0 };
}

main().catch(failStartup);
