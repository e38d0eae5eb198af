import type { ScriptedReply } from '@internal/testing/scripted-llm';
import { createScriptedLLM, flush, lastMessage } from '@internal/testing/scripted-llm';
import { createStelloAgent } from '../agent/stello-agent';
import type { StelloAgentConfig } from '../agent-types';
import type { AgentErrorEvent } from '../hooks';
import { createInMemoryStores } from '../in-memory';

export const BOUNDED_WAIT_MS = 2_000;

/** Answers `re: <input>` after yielding a few times, so unserialized turns would interleave. */
export const echo: ScriptedReply = async (call) => {
  for (let i = 0; i < 3; i++) await flush();
  return { content: `re: ${lastMessage(call).content}` };
};

export type Overrides = Omit<Partial<StelloAgentConfig>, 'sessions' | 'memory' | 'storage'>;

/** A space with a root, an agent over in-memory stores and a scripted model, and its reported errors. */
export async function setup(reply: ScriptedReply = echo, overrides: Overrides = {}) {
  const stores = createInMemoryStores();
  const llm = createScriptedLLM(reply);
  const agent = createStelloAgent({ ...stores, llm, ...overrides });
  const root = await agent.createRoot('Space');
  const errors: AgentErrorEvent[] = [];
  agent.on('error', (event) => errors.push(event));
  const fork = async (parentId: string, label: string) => (await agent.forkSession(parentId, { label })).id;
  return { stores, llm, agent, root, errors, fork };
}

export function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`timed out: ${what}`)), BOUNDED_WAIT_MS),
    ),
  ]);
}
