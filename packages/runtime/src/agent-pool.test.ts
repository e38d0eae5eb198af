import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@internal/testing';
import type { StelloAgent } from '@stello-ai/core';
import { createPool } from '@stello-ai/db';
import { createOfflineAdapter, isCodedError, type LLMCallFn } from '@stello-ai/session';
import {
  PgMainStorage,
  PgMemoryEngine,
  PgSessionStorage,
  PgSessionTree,
  PgStores,
  type PgStoresOptions,
} from '@stello-ai/storage';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { countQueries, insertUser, rejection } from './__fixtures__/pool-probes';
import { type AgentBuildContext, AgentPool, type AgentPoolOptions } from './agent-pool';
import type { Logger } from './logger';
import { type SpaceConfig, SpaceManager } from './space-manager';

let db: TestDatabase;
let stores: PgStores;
let spaces: SpaceManager;
let userId: string;
const pools: AgentPool[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  stores = new PgStores(db.pool);
  spaces = new SpaceManager(stores.spaces);
  userId = await insertUser(db.pool, 'pool');
});
afterEach(() => {
  for (const pool of pools.splice(0)) pool.dispose();
});
afterAll(() => db.drop());

const model = createOfflineAdapter();

function newPool(options: AgentPoolOptions = { model }, manager: SpaceManager = spaces): AgentPool {
  const pool = new AgentPool(stores, options, manager);
  pools.push(pool);
  return pool;
}

function newSpace(config: Partial<SpaceConfig> = {}) {
  return spaces.createSpace(userId, { label: 'Space', ...config });
}

/** An LLMCallFn that records the system prompt of every call and answers what each job expects. */
function recordingLlm(): LLMCallFn & { prompts: string[] } {
  const prompts: string[] = [];
  const call: LLMCallFn = async (messages) => {
    const system = messages.find((message) => message.role === 'system')?.content ?? '';
    prompts.push(system);
    return system.includes('INTEGRATE')
      ? JSON.stringify({ synthesis: 'synthesis', insights: [] })
      : 'a summary';
  };
  return Object.assign(call, { prompts });
}

/** A child of the root with one completed turn, so that it has something to consolidate. */
async function childWithTurn(agent: StelloAgent): Promise<string> {
  const root = await agent.sessions.getRoot();
  const child = await agent.forkSession(root.id, { label: 'child' });
  await agent.turn(child.id, 'hello child');
  return child.id;
}

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

/**
 * Starts creating the agent of `spaceId` on a new pool whose `buildConfig` waits for `finish()`,
 * and resolves once the creation is under way.
 */
async function creationUnderWay(spaceId: string) {
  const started = gate();
  const release = gate();
  const pool = newPool({
    model,
    buildConfig: async () => {
      started.open();
      await release.opened;
      return {};
    },
  });
  const pending = pool.getAgent(spaceId);
  await started.opened;
  return { pool, pending, finish: release.open };
}

describe('AgentPool', () => {
  describe('constructor', () => {
    it('throws INVALID_ARGUMENT when neither a model nor buildConfig is given', () => {
      let caught: unknown;
      try {
        new AgentPool(stores, {}, spaces);
      } catch (error) {
        caught = error;
      }
      expect(isCodedError(caught, 'INVALID_ARGUMENT')).toBe(true);
      expect((caught as Error).message).toMatch(/model/);
    });

    it('throws INVALID_ARGUMENT when idleTtlMs is not positive', () => {
      for (const idleTtlMs of [0, -5, Number.NaN]) {
        expect(() => new AgentPool(stores, { model, idleTtlMs }, spaces)).toThrow(/idleTtlMs/);
      }
    });

    it('throws INVALID_ARGUMENT without the stores or the space manager', () => {
      for (const build of [
        () => new AgentPool(db.pool as never, { model }, spaces),
        () => new AgentPool(stores, { model }, undefined as never),
      ]) {
        let caught: unknown;
        try {
          build();
        } catch (error) {
          caught = error;
        }
        expect(isCodedError(caught, 'INVALID_ARGUMENT')).toBe(true);
      }
    });
  });

  describe('storage options', () => {
    /** Runs two turns through a pool on a one-connection pg pool; returns what it prepared there. */
    async function preparedAfterTurns(storage: PgStoresOptions): Promise<number> {
      const single = createPool({ connectionString: db.url, max: 1 });
      try {
        const singleStores = new PgStores(single, storage);
        const agents = new AgentPool(singleStores, { model }, new SpaceManager(singleStores.spaces));
        pools.push(agents);
        const space = await newSpace();
        const agent = await agents.getAgent(space.id);
        const root = await agent.sessions.getRoot();
        await agent.turn(root.id, 'one');
        await agent.turn(root.id, 'two');
        expect(
          (await agent.memory.readRecords(root.id)).map((r) => r.content).filter((c) => c.length < 4),
        ).toEqual(['one', 'two']);
        const { rows } = await single.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'stello_%'",
        );
        return rows[0]!.n;
      } finally {
        await single.end();
      }
    }

    it('passes them to every space storage: turns use prepared statements unless turned off', async () => {
      expect(await preparedAfterTurns({})).toBeGreaterThan(0);
      expect(await preparedAfterTurns({ preparedStatements: false })).toBe(0);
    });
  });

  describe('getAgent', () => {
    it('creates the agent on first use and returns the same instance afterwards', async () => {
      const space = await newSpace();
      const pool = newPool();
      expect(pool.size).toBe(0);
      const first = await pool.getAgent(space.id);
      expect(pool.size).toBe(1);
      expect(await pool.getAgent(space.id)).toBe(first);
      expect(pool.size).toBe(1);
    });

    it('creates one agent when 20 first calls arrive at once', async () => {
      const space = await newSpace();
      const buildConfig = vi.fn(async () => ({}));
      const pool = newPool({ model, buildConfig });
      const agents = await Promise.all(Array.from({ length: 20 }, () => pool.getAgent(space.id)));
      expect(new Set(agents).size).toBe(1);
      expect(buildConfig).toHaveBeenCalledTimes(1);
      expect(pool.size).toBe(1);
    });

    it('builds agents from the capability shapes the original 0.2.x accepted (tool runtime and skill router objects)', async () => {
      const space = await newSpace();
      const executed: string[] = [];
      const pool = newPool({
        model,
        buildConfig: () => ({
          capabilities: {
            tools: {
              getToolDefinitions: () => [
                { name: 'lookup', description: 'looks up', parameters: { type: 'object', properties: {} } },
              ],
              executeTool: async (name: string) => {
                executed.push(name);
                return { success: true, data: 'found' };
              },
            },
            skills: {
              getAll: () => [
                { name: 'poet', description: 'poems', keywords: ['poem'], guidancePrompt: 'Rhyme.' },
              ],
            },
          },
        }),
      });
      const agent = await pool.getAgent(space.id);
      expect(agent.tools.list().map((t) => t.name)).toEqual(['lookup', 'activate_skill']);
      expect(agent.skills.get('poet')).toMatchObject({ content: 'Rhyme.' });
      expect(await agent.tools.get('lookup')!.execute({}, null as never)).toBe('found');
      expect(executed).toEqual(['lookup']);
    });

    it('does not cache a failed creation and retries on the next call', async () => {
      const space = await newSpace();
      let attempts = 0;
      const pool = newPool({
        model,
        buildConfig: () => {
          attempts += 1;
          if (attempts === 1) throw new Error('build failed');
          return {};
        },
      });
      const results = await Promise.allSettled([pool.getAgent(space.id), pool.getAgent(space.id)]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect(pool.size).toBe(0);
      const agent = await pool.getAgent(space.id);
      expect(attempts).toBe(2);
      expect(await pool.getAgent(space.id)).toBe(agent);
    });

    it('throws SPACE_NOT_FOUND when the space does not exist or the id is malformed', async () => {
      const pool = newPool();
      expect(isCodedError(await rejection(pool.getAgent(randomUUID())), 'SPACE_NOT_FOUND')).toBe(true);
      expect(isCodedError(await rejection(pool.getAgent('not-a-uuid')), 'SPACE_NOT_FOUND')).toBe(true);
      expect(pool.size).toBe(0);
    });

    it('gives every space its own agent', async () => {
      const [a, b] = await Promise.all([newSpace({ label: 'a' }), newSpace({ label: 'b' })]);
      const pool = newPool();
      const [agentA, agentB] = await Promise.all([pool.getAgent(a.id), pool.getAgent(b.id)]);
      expect(agentA).not.toBe(agentB);
      expect((await agentA.sessions.getRoot()).label).toBe('a');
      expect((await agentB.sessions.getRoot()).label).toBe('b');
      expect(pool.size).toBe(2);
    });

    it('runs a turn on the server model when there is no buildConfig', async () => {
      const space = await newSpace({ systemPrompt: 'Be brief.' });
      const pool = newPool();
      const agent = await pool.getAgent(space.id);
      expect(agent.config.llm).toBe(model);
      const root = await agent.sessions.getRoot();
      const { turn } = await agent.turn(root.id, 'What is Stello?');
      expect(turn.finalContent).toEqual(expect.any(String));
      const records = await agent.memory.readRecords(root.id);
      expect(records.map((r) => r.role)).toEqual(['user', 'assistant']);
      expect((await agent.sessions.getRoot()).turnCount).toBe(1);
    });

    it('throws SPACE_NOT_FOUND and caches nothing when the space is deleted during creation', async () => {
      const space = await newSpace();
      const { pool, pending, finish } = await creationUnderWay(space.id);
      await spaces.deleteSpace(space.id);
      finish();
      expect(isCodedError(await rejection(pending), 'SPACE_NOT_FOUND')).toBe(true);
      expect(pool.size).toBe(0);
    });
  });

  describe('buildConfig', () => {
    it('receives the space and adapters bound to it, and gets the defaults filled in', async () => {
      const space = await newSpace({
        label: 'Built',
        systemPrompt: 'sys',
        consolidatePrompt: 'CONSOLIDATE-X',
        integratePrompt: 'INTEGRATE-X',
      });
      const llm = recordingLlm();
      let seen: AgentBuildContext | undefined;
      const pool = newPool({
        model,
        llm,
        buildConfig: (ctx) => {
          seen = ctx;
          return {};
        },
      });
      const agent = await pool.getAgent(space.id);
      expect(seen).toBeDefined();
      const ctx = seen!;
      expect(ctx.spaceId).toBe(space.id);
      expect(ctx.space).toEqual(space);
      expect(ctx.pool).toBe(db.pool);
      expect(ctx.sessionStorage).toBeInstanceOf(PgSessionStorage);
      expect(ctx.mainStorage).toBeInstanceOf(PgMainStorage);
      expect(ctx.sessionTree).toBeInstanceOf(PgSessionTree);
      expect(ctx.memoryEngine).toBeInstanceOf(PgMemoryEngine);
      const root = await ctx.sessionTree.getRoot();
      expect(root.label).toBe('Built');
      expect(await ctx.mainStorage.getSystemPrompt(root.id)).toBe('sys');

      expect(agent.sessions).toBe(ctx.sessionTree);
      expect(agent.memory).toBe(ctx.memoryEngine);
      expect(agent.config.storage).toBe(ctx.mainStorage);
      expect(agent.config.llm).toBe(model);
      expect(agent.config.session?.llmCall).toBe(llm);
      expect(agent.config.session?.consolidatePrompt).toBe('CONSOLIDATE-X');
      expect(agent.config.session?.integratePrompt).toBe('INTEGRATE-X');
    });

    it('keeps explicit functions and values of the result over the pool defaults', async () => {
      const space = await newSpace({
        consolidatePrompt: 'space prompt',
        config: { consolidateEveryNTurns: 2 },
      });
      const poolLlm = recordingLlm();
      const consolidateFn = vi.fn(async () => 'explicit memory');
      const ownModel = createOfflineAdapter();
      const pool = newPool({
        model,
        llm: poolLlm,
        buildConfig: () => ({
          llm: ownModel,
          session: { consolidateFn, consolidatePrompt: 'host prompt' },
          orchestration: { consolidateEveryNTurns: 0 },
        }),
      });
      const agent = await pool.getAgent(space.id);
      expect(agent.config.llm).toBe(ownModel);
      expect(agent.config.session?.consolidatePrompt).toBe('host prompt');
      expect(agent.config.orchestration?.consolidateEveryNTurns).toBe(0);
      const childId = await childWithTurn(agent);
      expect(await agent.consolidateSession(childId)).toBe('explicit memory');
      expect(consolidateFn).toHaveBeenCalledTimes(1);
      await agent.idle();
      expect(poolLlm.prompts).not.toContain('host prompt');
      expect(poolLlm.prompts).not.toContain('space prompt');
    });
  });

  describe('space settings', () => {
    it('applies a PATCHed consolidate prompt to the next consolidation of a busy agent', async () => {
      // No background integration, so that the last model call is the consolidation.
      const space = await newSpace({
        consolidatePrompt: 'PROMPT-A',
        config: { integrateAfterConsolidate: false },
      });
      const llm = recordingLlm();
      const pool = newPool({ model, llm });
      const agent = await pool.getAgent(space.id);
      const childId = await childWithTurn(agent);
      await agent.attachSession(childId, 'ws-1'); // a connected client keeps the agent busy
      await agent.consolidateSession(childId);
      expect(llm.prompts.at(-1)).toBe('PROMPT-A');

      await spaces.updateSpace(space.id, { consolidatePrompt: 'PROMPT-B' });
      expect(await pool.getAgent(space.id)).toBe(agent); // busy: kept, not duplicated
      await agent.consolidateSession(childId);
      expect(llm.prompts.at(-1)).toBe('PROMPT-B');

      await agent.detachSession(childId, 'ws-1');
      await agent.idle();
      const rebuilt = await pool.getAgent(space.id);
      expect(rebuilt).not.toBe(agent); // stale and idle: rebuilt from the new settings
      expect(rebuilt.config.session?.consolidatePrompt).toBe('PROMPT-B');
      expect(pool.size).toBe(1);
    });

    it('applies a PATCHed integrate prompt and falls back to the default prompt when it is cleared', async () => {
      const space = await newSpace({ integratePrompt: 'INTEGRATE-A' });
      const llm = recordingLlm();
      const agent = await newPool({ model, llm }).getAgent(space.id);
      await agent.integrate();
      expect(llm.prompts.at(-1)).toBe('INTEGRATE-A');
      await spaces.updateSpace(space.id, { integratePrompt: 'INTEGRATE-B' });
      await agent.integrate();
      expect(llm.prompts.at(-1)).toBe('INTEGRATE-B');
      await spaces.updateSpace(space.id, { integratePrompt: null });
      expect(agent.config.session?.integratePrompt).toBeUndefined();
    });

    it('rebuilds an idle agent with the new memory schedule after a config change', async () => {
      const space = await newSpace({ config: { consolidateEveryNTurns: 3 } });
      const pool = newPool();
      const agent = await pool.getAgent(space.id);
      expect(agent.config.orchestration?.consolidateEveryNTurns).toBe(3);
      await spaces.updateSpace(space.id, {
        config: { consolidateEveryNTurns: 5, consolidateOnLeave: false },
      });
      const rebuilt = await pool.getAgent(space.id);
      expect(rebuilt).not.toBe(agent);
      expect(rebuilt.config.orchestration).toMatchObject({
        consolidateEveryNTurns: 5,
        consolidateOnLeave: false,
      });
      await vi.waitFor(async () =>
        expect(isCodedError(await rejection(agent.turn(randomUUID(), 'x')), 'AGENT_DISPOSED')).toBe(true),
      );
    });

    it('ignores schedule settings of the wrong type', async () => {
      const space = await newSpace({ config: { consolidateEveryNTurns: 'often', consolidateOnLeave: 1 } });
      const agent = await newPool().getAgent(space.id);
      expect(agent.config.orchestration?.consolidateEveryNTurns).toBeUndefined();
      expect(agent.config.orchestration?.consolidateOnLeave).toBeUndefined();
    });

    it('uses the space data of an update that arrives during creation', async () => {
      const space = await newSpace({ label: 'before' });
      const { pool, pending, finish } = await creationUnderWay(space.id);
      await spaces.updateSpace(space.id, { label: 'after' });
      finish();
      const agent = await pending;
      expect((await spaces.getSpace(space.id))?.label).toBe('after');
      expect(await pool.getAgent(space.id)).not.toBe(agent); // built from old data: rebuilt once idle
    });

    it('hears changes made through its SpaceManager by anyone, not those of another manager', async () => {
      const space = await newSpace({ consolidatePrompt: 'one' });
      const own = new SpaceManager(stores.spaces);
      const pool = newPool({ model }, own);
      const agent = await pool.getAgent(space.id);
      await spaces.updateSpace(space.id, { consolidatePrompt: 'ignored' });
      expect(agent.config.session?.consolidatePrompt).toBe('one');
      await own.updateSpace(space.id, { consolidatePrompt: 'two' });
      expect(agent.config.session?.consolidatePrompt).toBe('two');
      expect((await own.getSpace(space.id))?.consolidatePrompt).toBe('two');
    });
  });

  describe('the space, read through its SpaceManager', () => {
    it('answers from the pooled agent without a query', async () => {
      const space = await newSpace();
      const pool = newPool();
      await pool.getAgent(space.id);
      let result: unknown;
      const queries = await countQueries(db.pool, async () => {
        for (let i = 0; i < 5; i++) result = await spaces.getSpace(space.id);
      });
      expect(queries).toBe(0);
      expect(result).toEqual(space);
    });

    it('returns the updated space at once when the space changes', async () => {
      const space = await newSpace({ label: 'old' });
      const pool = newPool();
      await pool.getAgent(space.id);
      const updated = await spaces.updateSpace(space.id, { label: 'new', systemPrompt: 'p' });
      const queries = await countQueries(db.pool, async () => {
        expect(await spaces.getSpace(space.id)).toEqual(updated);
      });
      expect(queries).toBe(0);
    });

    it('loads a space without agent once, then reuses it briefly', async () => {
      const space = await newSpace();
      const pool = newPool();
      const queries = await countQueries(db.pool, async () => {
        expect(await spaces.getSpace(space.id)).toEqual(space);
        expect(await spaces.getSpace(space.id)).toEqual(space);
        await pool.getAgent(space.id);
      });
      // One load serves the two reads and the creation, which adds no statement of its own.
      expect(queries).toBe(1);
      expect(pool.size).toBe(1);
    });

    it('returns null when the space does not exist or the id is malformed', async () => {
      expect(await spaces.getSpace(randomUUID())).toBeNull();
      expect(await spaces.getSpace('garbage')).toBeNull();
    });

    it('returns null at once when the space is deleted', async () => {
      const space = await newSpace();
      const pool = newPool();
      await pool.getAgent(space.id); // the space is held for the agent
      await spaces.deleteSpace(space.id);
      expect(await spaces.getSpace(space.id)).toBeNull();
      expect(pool.size).toBe(0);
    });
  });

  describe('eviction', () => {
    it('evicts the agent and disposes it when the space is deleted', async () => {
      const space = await newSpace();
      const pool = newPool();
      const agent = await pool.getAgent(space.id);
      await spaces.deleteSpace(space.id);
      expect(pool.size).toBe(0);
      await vi.waitFor(async () =>
        expect(isCodedError(await rejection(agent.turn(randomUUID(), 'x')), 'AGENT_DISPOSED')).toBe(true),
      );
      expect(isCodedError(await rejection(pool.getAgent(space.id)), 'SPACE_NOT_FOUND')).toBe(true);
    });

    it('evicts on demand and builds a new agent on the next call', async () => {
      const space = await newSpace();
      const pool = newPool();
      const agent = await pool.getAgent(space.id);
      pool.evict(space.id);
      pool.evict(randomUUID()); // unknown: no-op
      expect(pool.size).toBe(0);
      const next = await pool.getAgent(space.id);
      expect(next).not.toBe(agent);
      await vi.waitFor(async () =>
        expect(isCodedError(await rejection(agent.turn(randomUUID(), 'x')), 'AGENT_DISPOSED')).toBe(true),
      );
    });

    it('evicts an idle agent after idleTtlMs', async () => {
      const space = await newSpace();
      const pool = newPool({ model, idleTtlMs: 20 });
      const agent = await pool.getAgent(space.id);
      await vi.waitFor(() => expect(pool.size).toBe(0), { timeout: 5_000, interval: 10 });
      await vi.waitFor(async () =>
        expect(isCodedError(await rejection(agent.turn(randomUUID(), 'x')), 'AGENT_DISPOSED')).toBe(true),
      );
    });

    it('never evicts an agent while a session is attached, and evicts it once detached', async () => {
      const space = await newSpace();
      const logged: string[] = [];
      const logger: Logger = { info: (event) => logged.push(event), warn: () => {}, error: () => {} };
      const pool = newPool({ model, idleTtlMs: 20, logger });
      const agent = await pool.getAgent(space.id);
      const root = await agent.sessions.getRoot();
      await agent.attachSession(root.id, 'ws-holder');
      // Many sweeps run meanwhile (every 20 ms); each must skip the busy agent.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(pool.size).toBe(1);
      expect(logged).not.toContain('agent.evicted');
      await agent.detachSession(root.id, 'ws-holder');
      await vi.waitFor(() => expect(pool.size).toBe(0), { timeout: 5_000, interval: 10 });
      expect(logged).toContain('agent.evicted');
    });

    it('never evicts an agent while a turn runs', async () => {
      const space = await newSpace();
      const { open, opened } = gate();
      const slowModel = createOfflineAdapter();
      const complete = slowModel.complete.bind(slowModel);
      slowModel.complete = async (messages, options) => {
        await opened;
        return complete(messages, options);
      };
      const pool = newPool({ model: slowModel, idleTtlMs: 20 });
      const agent = await pool.getAgent(space.id);
      const root = await agent.sessions.getRoot();
      const turn = agent.turn(root.id, 'slow question');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(pool.size).toBe(1);
      open();
      await turn;
      await vi.waitFor(() => expect(pool.size).toBe(0), { timeout: 5_000, interval: 10 });
    });
  });

  describe('background failures', () => {
    it('logs failures of background memory work', async () => {
      const space = await newSpace();
      const errors: { event: string; fields?: Record<string, unknown> }[] = [];
      const logger: Logger = {
        info: () => {},
        warn: () => {},
        error: (event, fields) => errors.push({ event, fields }),
      };
      const pool = newPool({
        model,
        logger,
        buildConfig: () => ({
          session: {
            consolidateFn: async () => {
              throw new Error('consolidation exploded');
            },
          },
        }),
      });
      const agent = await pool.getAgent(space.id);
      const childId = await childWithTurn(agent);
      await agent.leaveSession(childId); // schedules a background consolidation
      await agent.idle();
      expect(errors).toContainEqual({
        event: 'agent.background_failed',
        fields: expect.objectContaining({ spaceId: space.id, sessionId: childId, phase: 'consolidate' }),
      });
    });
  });

  describe('dispose', () => {
    it('disposes every agent and refuses new work', async () => {
      const [a, b] = await Promise.all([newSpace(), newSpace()]);
      const pool = newPool();
      const agents = await Promise.all([pool.getAgent(a.id), pool.getAgent(b.id)]);
      pool.dispose();
      pool.dispose(); // idempotent
      expect(pool.size).toBe(0);
      for (const agent of agents) {
        await vi.waitFor(async () =>
          expect(isCodedError(await rejection(agent.turn(randomUUID(), 'x')), 'AGENT_DISPOSED')).toBe(true),
        );
      }
      expect(isCodedError(await rejection(pool.getAgent(a.id)), 'INVALID_ARGUMENT')).toBe(true);
      // Changes after dispose reach no disposed state.
      await spaces.updateSpace(a.id, { label: 'later' });
      expect(pool.size).toBe(0);
    });

    it('discards a creation that was under way', async () => {
      const space = await newSpace();
      const { pool, pending, finish } = await creationUnderWay(space.id);
      pool.dispose();
      finish();
      expect(isCodedError(await rejection(pending), 'INVALID_ARGUMENT')).toBe(true);
      expect(pool.size).toBe(0);
    });
  });
});

describe('AgentPool bounds (one tenant must not hurt another)', () => {
  it('raises a consolidation interval below the operator floor, keeps 0 (off) and larger values', async () => {
    const pool = newPool({ model, minConsolidateEveryNTurns: 4 });
    const every = async (value: number) => {
      const space = await newSpace({ config: { consolidateEveryNTurns: value } });
      return (await pool.getAgent(space.id)).config.orchestration?.consolidateEveryNTurns;
    };
    expect(await every(1)).toBe(4);
    expect(await every(0)).toBe(0);
    expect(await every(9)).toBe(9);
  });

  it('keeps the cached agents within the byte budget, evicting the least recently used idle ones', async () => {
    const prompt = 'p'.repeat(10_000);
    const pool = newPool({ model, maxCachedBytes: 35_000 });
    const created = [];
    for (let i = 0; i < 6; i++) {
      const space = await newSpace({ label: `big ${i}`, systemPrompt: prompt });
      created.push(space.id);
      await pool.getAgent(space.id);
      expect(pool.size).toBeLessThanOrEqual(3);
    }
    // The newest stays; an evicted space gets a fresh agent on its next use.
    const again = await pool.getAgent(created[0]!);
    expect(again.config.sessions).toBeDefined();
    expect(pool.size).toBeLessThanOrEqual(3);
  });

  it('never evicts a busy agent to meet the bound', async () => {
    const pool = newPool({ model, maxCachedAgents: 1 });
    const first = await newSpace({ label: 'held' });
    const agent = await pool.getAgent(first.id);
    const root = (await agent.sessions.listInfo())[0]!;
    await agent.attachSession(root.id, 'holder');
    const second = await newSpace({ label: 'other' });
    await pool.getAgent(second.id);
    expect(await pool.getAgent(first.id)).toBe(agent);
    await agent.detachSession(root.id, 'holder');
  });
});
