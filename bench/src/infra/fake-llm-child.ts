/**
 * Child process of the bench: two fake OpenAI-compatible servers on 127.0.0.1, one answering at
 * once (zero latency, 16 chunks) and one behaving like a real model (50 ms to the first token, 16
 * chunks 5 ms apart). It runs apart from the server under test so its CPU is not charged to it.
 */
import { type FakeLLMServer, type FakeRequest, startFakeOpenAI } from '@internal/testing';
import { failStartup, serveRpc } from './rpc';

/** Chunks of every streamed reply. */
export const FAKE_CHUNK_COUNT = 16;
/** First-token latency of the realistic fake, in milliseconds. */
export const REALISTIC_FIRST_TOKEN_MS = 50;
/** Delay between two chunks of the realistic fake, in milliseconds. */
export const REALISTIC_CHUNK_DELAY_MS = 5;

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
  /** Characters of the JSON bodies received. */
  promptChars: number;
}

async function main(): Promise<void> {
  const counters = { zero: emptyCounters(), realistic: emptyCounters() };
  const servers: { zero?: FakeLLMServer; realistic?: FakeLLMServer } = {};
  const track = (which: 'zero' | 'realistic') => (request: FakeRequest) => {
    const counter = counters[which];
    counter.requests += 1;
    counter.promptMessages += Array.isArray(request.body?.messages) ? request.body.messages.length : 0;
    counter.promptChars += JSON.stringify(request.body).length;
    // The fake keeps every request it received; a long run would hold them all in memory.
    servers[which]?.requests.splice(0);
    return {};
  };
  // Validation is skipped: it is the fake's own cost, not the server's, and it only checks shape.
  servers.zero = await startFakeOpenAI({
    script: track('zero'),
    chunkCount: FAKE_CHUNK_COUNT,
    firstTokenLatencyMs: 0,
    chunkDelayMs: 0,
    validate: false,
  });
  servers.realistic = await startFakeOpenAI({
    script: track('realistic'),
    chunkCount: FAKE_CHUNK_COUNT,
    firstTokenLatencyMs: REALISTIC_FIRST_TOKEN_MS,
    chunkDelayMs: REALISTIC_CHUNK_DELAY_MS,
    validate: false,
  });
  const { zero, realistic } = servers;
  const info: FakeLlmInfo = { zeroBaseURL: zero.baseURL, realisticBaseURL: realistic.baseURL };
  serveRpc(
    {
      counters: () => ({ ...counters }),
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

function emptyCounters(): FakeLlmCounters {
  return { requests: 0, promptMessages: 0, promptChars: 0 };
}

main().catch(failStartup);
