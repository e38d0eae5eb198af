import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { BenchSocket } from '../load/bench-socket';
import { type LatencySummary, summarize } from '../load/latency';
import { runClosedLoop } from '../load/run-load';
import { measure, measureRow } from './_measure';
import {
  BENCH_SYSTEM_PROMPT,
  inParallel,
  prepareSpaces,
  REALISTIC_SPACE_CONFIG,
  restTurn,
  turnInput,
} from './_setup';
import type { Figures, ResultRow, Scenario, ScenarioContext } from './types';

/** One streamed request straight to the realistic fake, read to its end. */
async function askLlm(ctx: ScenarioContext): Promise<void> {
  const response = await request(`${ctx.llm.info.realisticBaseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'fake',
      stream: true,
      messages: [
        { role: 'system', content: BENCH_SYSTEM_PROMPT },
        { role: 'user', content: turnInput() },
      ],
    }),
  });
  await response.body.text();
  if (response.statusCode !== 200) throw new Error(`fake llm answered ${response.statusCode}`);
}

/** The realistic fake's own reply time: streamed requests sent straight to it, one at a time. */
async function probeLlm(ctx: ScenarioContext): Promise<LatencySummary> {
  const samples: number[] = [];
  for (let index = 0; index < ctx.sizes.llmProbeRequests; index += 1) {
    const startedAt = performance.now();
    await askLlm(ctx);
    samples.push(performance.now() - startedAt);
  }
  return summarize(samples);
}

/**
 * The same requests from as many clients as the scenario, with no server in between: what the
 * machine alone (fake LLM and load generator sharing the cores) does to the reply time's tail.
 */
async function probeLlmUnderLoad(ctx: ScenarioContext, clients: number): Promise<LatencySummary> {
  const result = await runClosedLoop({
    begin: async () => {},
    end: async () => {},
    clients,
    warmupMs: ctx.sizes.warmupMs / 2,
    durationMs: ctx.sizes.realisticWindowMs / 2,
    op: async () => {
      await askLlm(ctx);
      return undefined;
    },
  });
  if (result.errors > 0) throw new Error(`fake llm failed: ${result.errorSamples.join('; ')}`);
  return summarize(result.latencies);
}

function withLlm(figures: Figures, llm: LatencySummary, loaded: LatencySummary, clients: number): Figures {
  figures.values.clients = clients;
  figures.values.llmReplyMsP50 = llm.p50;
  figures.values.llmReplyMsP99 = llm.p99;
  figures.values.llmLoadedReplyMsP99 = loaded.p99;
  return figures;
}

/** Many clients against a model with real latency: how much the server adds to the LLM's reply time. */
export const realisticLlmScenario: Scenario = {
  name: 'realistic-llm',
  description:
    'many clients, a model with 50 ms to the first token and 16 chunks 5 ms apart: full-turn latency',
  async run(ctx) {
    const { sizes, targets } = ctx;
    const clients = sizes.realisticClients;
    const llm = await probeLlm(ctx);
    ctx.log(`  fake LLM alone: p50 ${llm.p50.toFixed(1)} ms, p99 ${llm.p99.toFixed(1)} ms`);
    const loaded = await probeLlmUnderLoad(ctx, clients);
    ctx.log(
      `  fake LLM alone, ${clients} clients: p50 ${loaded.p50.toFixed(1)} ms, p99 ${loaded.p99.toFixed(1)} ms`,
    );
    const rows: ResultRow[] = [];
    rows.push(
      await measureRow(
        targets,
        {
          id: 'realistic-llm.ws',
          scenario: 'realistic-llm',
          label: `realistic LLM, WS streamed turn, ${clients} clients`,
        },
        async (target) => {
          const spaces = await prepareSpaces(target, clients, 'realistic-ws', REALISTIC_SPACE_CONFIG);
          const sockets = await inParallel(spaces, async (space) => {
            const socket = await BenchSocket.connect(target.wsUrl, space.spaceId, target.apiKey);
            await socket.enter(space.rootId);
            return socket;
          });
          try {
            const figures = await measure(target, (hooks) =>
              runClosedLoop({
                ...hooks,
                clients,
                warmupMs: sizes.warmupMs,
                durationMs: sizes.realisticWindowMs,
                op: async (client) => {
                  const timing = await sockets[client]!.streamTurn(turnInput());
                  return { firstDeltaMs: timing.firstDeltaMs };
                },
              }),
            );
            return withLlm(figures, llm, loaded, clients);
          } finally {
            await Promise.all(sockets.map((socket) => socket.close()));
          }
        },
      ),
    );
    rows.push(
      await measureRow(
        targets,
        {
          id: 'realistic-llm.rest',
          scenario: 'realistic-llm',
          label: `realistic LLM, REST turn, ${clients} clients`,
        },
        async (target) => {
          const spaces = await prepareSpaces(target, clients, 'realistic-rest', REALISTIC_SPACE_CONFIG);
          const figures = await measure(target, (hooks) =>
            runClosedLoop({
              ...hooks,
              clients,
              warmupMs: sizes.warmupMs,
              durationMs: sizes.realisticWindowMs,
              op: async (client) => {
                await restTurn(target, spaces[client]!);
                return undefined;
              },
            }),
          );
          return withLlm(figures, llm, loaded, clients);
        },
      ),
    );
    return rows;
  },
};
