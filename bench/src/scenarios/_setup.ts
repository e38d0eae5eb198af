import type { SessionInfo } from '@stello-ai/core';
import type { Space } from '@stello-ai/runtime';
import { runBatch } from '../load/run-load';
import type { ServerTarget } from './types';

/** A space and its root session. */
export interface BenchSpace {
  spaceId: string;
  rootId: string;
}

// Setup requests run this many at a time.
const SETUP_CONCURRENCY = 8;
const NO_HOOKS = { begin: async () => {}, end: async () => {} };

/** A system prompt of realistic length, so every turn carries one. */
export const BENCH_SYSTEM_PROMPT = 'You are a concise assistant. Answer in one short paragraph.';

/** Space config of the spaces whose agent talks to the realistic fake LLM. */
export const REALISTIC_SPACE_CONFIG = { benchModel: 'realistic' };

/** Runs `fn` over `items`, a few at a time, and returns the results in order; throws on the first failure. */
export async function inParallel<TItem, TResult>(
  items: readonly TItem[],
  fn: (item: TItem, index: number) => Promise<TResult>,
  concurrency = SETUP_CONCURRENCY,
): Promise<TResult[]> {
  const results: TResult[] = new Array(items.length);
  const result = await runBatch({
    ...NO_HOOKS,
    count: items.length,
    concurrency,
    op: async (index) => {
      results[index] = await fn(items[index] as TItem, index);
      return undefined;
    },
  });
  if (result.errors > 0) throw new Error(`setup failed: ${result.errorSamples[0]}`);
  return results;
}

/** Creates a space through REST and returns its id. */
export async function createSpace(
  target: ServerTarget,
  label: string,
  config?: Record<string, unknown>,
): Promise<string> {
  const body = { label, systemPrompt: BENCH_SYSTEM_PROMPT, ...(config && { config }) };
  const response = await target.rest.expect<Space>(201, 'POST', '/spaces', target.apiKey, body);
  return response.body.id;
}

/** The root session of a space (this builds the space's agent when it is cold). */
export async function rootOf(target: ServerTarget, spaceId: string): Promise<string> {
  const response = await target.rest.expect<SessionInfo[]>(
    200,
    'GET',
    `/spaces/${spaceId}/sessions`,
    target.apiKey,
  );
  const root = response.body.find((session) => session.parentId === null);
  if (!root) throw new Error(`space ${spaceId} has no root session`);
  return root.id;
}

/** Creates `count` spaces and looks up their roots. */
export function prepareSpaces(
  target: ServerTarget,
  count: number,
  label: string,
  config?: Record<string, unknown>,
): Promise<BenchSpace[]> {
  return inParallel(
    Array.from({ length: count }, (_, index) => index),
    async (index) => {
      const spaceId = await createSpace(target, `${label} ${index}`, config);
      return { spaceId, rootId: await rootOf(target, spaceId) };
    },
  );
}

let inputSeq = 0;

/** A user message of chat length; the fake echoes it back in 16 chunks. */
export function turnInput(): string {
  inputSeq += 1;
  return `Bench message ${inputSeq}: please summarise where we are and what comes next.`;
}

/** Sends one REST turn and checks the answer. */
export async function restTurn(target: ServerTarget, space: BenchSpace): Promise<void> {
  const response = await target.rest.expect<{ turn?: { finalContent?: string } }>(
    200,
    'POST',
    `/spaces/${space.spaceId}/sessions/${space.rootId}/turn`,
    target.apiKey,
    { input: turnInput() },
  );
  if (typeof response.body.turn?.finalContent !== 'string')
    throw new Error('turn answer without finalContent');
}
