import { randomUUID } from 'node:crypto';
import {
  createInMemoryStores,
  createStelloAgent,
  type InMemoryStores,
  type StelloAgent,
} from '@stello-ai/core';
import type { Space, SpaceConfig, SpaceUpdate } from '@stello-ai/runtime';
import { RuntimeError } from '@stello-ai/runtime';
import type { LLMAdapter, Message } from '@stello-ai/session';
import type { TransportAgentSource, TransportAuthenticator, TransportSpaceStore } from '@stello-ai/transport';

/** The ceiling's replacements of the runtime objects the transport needs. */
export interface CeilingDeps {
  spaceManager: TransportSpaceStore;
  agentPool: TransportAgentSource;
  userStore: TransportAuthenticator;
  /** Creates a user and returns its key. */
  createUser(name: string): Promise<string>;
  /** Appends `turns` user/assistant pairs to a session's history, as turns would. */
  seed(spaceId: string, sessionId: string, turns: number): Promise<void>;
  /** Drops the cached agent of each space (the space's data stays). */
  evict(spaceIds: string[]): void;
  /** Number of cached agents. */
  readonly agentCount: number;
}

interface SpaceEntry {
  space: Space;
  stores: InMemoryStores;
}

function notFound(spaceId: string): RuntimeError {
  return new RuntimeError('SPACE_NOT_FOUND', `space "${spaceId}" not found`, { details: { spaceId } });
}

/**
 * Builds in-memory stand-ins for `SpaceManager`, `AgentPool` and `UserStore`: the same agents
 * (`createStelloAgent` on one in-memory store per space, the same model) with no database work,
 * so the transport above them measures the ceiling of the HTTP/WebSocket stack.
 *
 * `modelFor` picks the chat model of a space, as the real server's `buildConfig` does.
 */
export function createCeilingDeps(modelFor: (space: Space) => LLMAdapter): CeilingDeps {
  const spaces = new Map<string, SpaceEntry>();
  const agents = new Map<string, StelloAgent>();
  const creations = new Map<string, Promise<StelloAgent>>();
  const keys = new Map<string, string>();

  const entryOf = (spaceId: string): SpaceEntry => {
    const entry = spaces.get(spaceId);
    if (!entry) throw notFound(spaceId);
    return entry;
  };

  const createAgent = async (spaceId: string): Promise<StelloAgent> => {
    const { space, stores } = entryOf(spaceId);
    const agent = createStelloAgent({
      sessions: stores.sessions,
      memory: stores.memory,
      storage: stores.storage,
      llm: modelFor(space),
    });
    // The real pool makes the same idempotent call when it builds an agent.
    await agent.createRoot(space.label);
    agents.set(spaceId, agent);
    return agent;
  };

  const retire = (agent: StelloAgent) => {
    void agent.idle().then(() => agent.dispose());
  };

  const spaceManager = {
    async createSpace(userId: string, config: SpaceConfig): Promise<Space> {
      const now = new Date().toISOString();
      const space: Space = {
        id: randomUUID(),
        userId,
        label: config.label,
        systemPrompt: config.systemPrompt ?? null,
        consolidatePrompt: config.consolidatePrompt ?? null,
        integratePrompt: config.integratePrompt ?? null,
        config: config.config ?? {},
        createdAt: now,
        updatedAt: now,
      };
      const stores = createInMemoryStores();
      const root = await stores.sessions.createRoot(config.label);
      if (config.systemPrompt) await stores.storage.putSystemPrompt(root.id, config.systemPrompt);
      spaces.set(space.id, { space, stores });
      return space;
    },
    async getSpace(spaceId: string): Promise<Space | null> {
      return spaces.get(spaceId)?.space ?? null;
    },
    async updateSpace(spaceId: string, updates: SpaceUpdate): Promise<Space> {
      const entry = entryOf(spaceId);
      const next: Space = { ...entry.space, updatedAt: new Date().toISOString() };
      if (updates.label !== undefined) next.label = updates.label;
      if (updates.config !== undefined) next.config = updates.config;
      if (updates.systemPrompt !== undefined) next.systemPrompt = updates.systemPrompt;
      if (updates.consolidatePrompt !== undefined) next.consolidatePrompt = updates.consolidatePrompt;
      if (updates.integratePrompt !== undefined) next.integratePrompt = updates.integratePrompt;
      entry.space = next;
      return next;
    },
    async listSpaces(userId: string, options: { limit?: number; after?: string } = {}): Promise<Space[]> {
      const own = [...spaces.values()].map((entry) => entry.space).filter((space) => space.userId === userId);
      const start =
        options.after === undefined ? 0 : own.findIndex((space) => space.id === options.after) + 1;
      return own.slice(start, options.limit === undefined ? undefined : start + options.limit);
    },
    async deleteSpace(spaceId: string): Promise<void> {
      entryOf(spaceId);
      spaces.delete(spaceId);
      const agent = agents.get(spaceId);
      agents.delete(spaceId);
      if (agent) retire(agent);
    },
    onChange: () => () => {},
  };

  const agentPool = {
    async getAgent(spaceId: string): Promise<StelloAgent> {
      const agent = agents.get(spaceId);
      if (agent) return agent;
      let creation = creations.get(spaceId);
      if (!creation) {
        creation = createAgent(spaceId).finally(() => creations.delete(spaceId));
        creations.set(spaceId, creation);
      }
      return creation;
    },
    async getSpace(spaceId: string): Promise<Space | null> {
      return spaces.get(spaceId)?.space ?? null;
    },
    evict(spaceId: string): void {
      const agent = agents.get(spaceId);
      agents.delete(spaceId);
      if (agent) retire(agent);
    },
    dispose(): void {
      for (const agent of agents.values()) retire(agent);
      agents.clear();
    },
    get size() {
      return agents.size;
    },
  };

  const userStore = {
    async createUser(name: string) {
      const apiKey = `stello_ceiling_${randomUUID()}`;
      const id = randomUUID();
      keys.set(apiKey, id);
      const createdAt = new Date().toISOString();
      return { user: { id, name, keyPrefix: apiKey.slice(0, 12), createdAt, keyRevokedAt: null }, apiKey };
    },
    async authenticate(apiKey: string): Promise<{ userId: string } | null> {
      const userId = keys.get(apiKey);
      return userId === undefined ? null : { userId };
    },
  };

  return {
    spaceManager,
    agentPool,
    userStore,
    async createUser(name) {
      return (await userStore.createUser(name)).apiKey;
    },
    async seed(spaceId, sessionId, turns) {
      const { storage } = entryOf(spaceId).stores;
      for (let turn = 0; turn < turns; turn += 1) {
        await storage.commitTurn(sessionId, { records: seedTurn(turn), countTurn: true });
      }
    },
    evict(spaceIds) {
      for (const spaceId of spaceIds) agentPool.evict(spaceId);
    },
    get agentCount() {
      return agents.size;
    },
  };
}

/** The records of one seeded turn: a question and an answer of realistic chat length. */
export function seedTurn(turn: number): Message[] {
  return [
    { role: 'user', content: `Seeded question number ${turn}: what did we decide about item ${turn % 17}?` },
    {
      role: 'assistant',
      content: `Seeded answer number ${turn}: we kept item ${turn % 17} as it was and moved the rest to next week.`,
    },
  ];
}
