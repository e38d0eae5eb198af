import type { ScriptedReply } from '@internal/testing/scripted-llm';
import { callTool, createScriptedLLM, gate, lastMessage } from '@internal/testing/scripted-llm';
import { isCodedError, type Message } from '@stello-ai/session';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createStelloAgent } from '../agent/stello-agent';
import type { StelloAgentConfig } from '../agent-types';
import type { AgentErrorEvent } from '../hooks';
import { createInMemoryStores, type InMemoryStores } from '../in-memory';
import { tool } from '../tools/tools';

const BOUNDED_WAIT_MS = 5_000;
const FOREIGN = { owner: 'another-instance:1', ttlMs: 60_000 };

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`timed out: ${what}`)), BOUNDED_WAIT_MS),
    ),
  ]);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Overrides = Omit<Partial<StelloAgentConfig>, 'sessions' | 'memory' | 'storage'>;

/** An agent over `stores`; two agents over the same stores are two server instances of one space. */
function agentOver(stores: InMemoryStores, reply: ScriptedReply, overrides: Overrides = {}) {
  const llm = createScriptedLLM(reply);
  const agent = createStelloAgent({ ...stores, llm, ...overrides });
  const errors: AgentErrorEvent[] = [];
  agent.on('error', (event) => errors.push(event));
  return { agent, llm, errors };
}

async function setup(reply: ScriptedReply, overrides: Overrides = {}) {
  const stores = createInMemoryStores();
  const first = agentOver(stores, reply, overrides);
  const root = await first.agent.createRoot('Space');
  const session = (await first.agent.forkSession(root.id, { label: 'shared' })).id;
  return { stores, session, ...first };
}

/** True when the session's lease is free: another owner can take it at once. */
async function leaseIsFree(stores: InMemoryStores, sessionId: string): Promise<boolean> {
  const owner = { owner: `probe:${Math.random()}`, ttlMs: 60_000 };
  try {
    await stores.storage.loadTurnContext(sessionId, { maxRecords: 1, lease: owner });
  } catch (error) {
    if (isCodedError(error, 'SESSION_BUSY')) return false;
    throw error;
  }
  await stores.storage.releaseTurnLease(sessionId, owner.owner);
  return true;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('StelloAgent', () => {
  describe('turn lease across instances', () => {
    it('runs the turns of two agents on one session one at a time, each after the other', async () => {
      let inFlight = 0;
      let maxInFlight = 0;
      const reply: ScriptedReply = async (call) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await pause(2);
        inFlight -= 1;
        return { content: `re: ${lastMessage(call).content}` };
      };
      // Without memory work, whose model calls run beside turns by design.
      const quiet = { orchestration: { consolidateEveryNTurns: 0 } };
      const { stores, session, agent } = await setup(reply, quiet);
      const other = agentOver(stores, reply, quiet).agent;

      const turns = Array.from({ length: 10 }, (_, i) => [
        agent.turn(session, `a${i}`),
        other.turn(session, `b${i}`),
      ]).flat();
      const settled = await withTimeout(Promise.allSettled(turns), 'twenty turns');

      expect(settled.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
      expect(maxInFlight).toBe(1);
      expect((await stores.storage.getSessionRow(session))?.turnCount).toBe(20);
      const records = await stores.storage.listRecords(session);
      expect(records).toHaveLength(40);
      for (let i = 0; i < records.length; i += 2) {
        const [question, answer] = [records[i] as Message, records[i + 1] as Message];
        expect([question.role, answer.role]).toEqual(['user', 'assistant']);
        expect(answer.content).toBe(`re: ${question.content}`);
      }
      expect(await leaseIsFree(stores, session)).toBe(true);
    });

    it('waits while another instance holds the lease and runs once it is released', async () => {
      const { stores, session, agent, llm } = await setup(() => ({ content: 'done' }));
      await stores.storage.loadTurnContext(session, { maxRecords: 1, lease: FOREIGN });

      const turn = agent.turn(session, 'after you');
      await pause(60);
      expect(llm.calls).toHaveLength(0);
      await stores.storage.releaseTurnLease(session, FOREIGN.owner);

      await expect(withTimeout(turn, 'turn after release')).resolves.toMatchObject({
        turn: { finalContent: 'done' },
      });
    });

    it('fails with SESSION_BUSY after turnLeaseWaitMs and writes nothing', async () => {
      const { stores, session, agent, llm } = await setup(() => ({ content: 'never' }), {
        orchestration: { turnLeaseWaitMs: 80 },
      });
      await stores.storage.loadTurnContext(session, { maxRecords: 1, lease: FOREIGN });
      const load = vi.spyOn(stores.storage, 'loadTurnContext');

      const error = await withTimeout(rejection(agent.turn(session, 'hello')), 'busy turn');

      expect(error).toMatchObject({
        code: 'SESSION_BUSY',
        details: { sessionId: session, waitedMs: 80, retryAfterMs: expect.any(Number) },
      });
      // It retried with a backoff, not once and not in a tight loop.
      expect(load.mock.calls.length).toBeGreaterThan(1);
      expect(load.mock.calls.length).toBeLessThan(10);
      expect(llm.calls).toHaveLength(0);
      expect(await stores.storage.listRecords(session)).toEqual([]);
    });

    it('fails at once when turnLeaseWaitMs is 0', async () => {
      const { stores, session, agent } = await setup(() => ({ content: 'never' }), {
        orchestration: { turnLeaseWaitMs: 0 },
      });
      await stores.storage.loadTurnContext(session, { maxRecords: 1, lease: FOREIGN });
      const load = vi.spyOn(stores.storage, 'loadTurnContext');
      expect(await rejection(agent.turn(session, 'hello'))).toMatchObject({ code: 'SESSION_BUSY' });
      expect(load).toHaveBeenCalledTimes(1);
    });

    it('takes over a lease whose owner crashed once it lapsed', async () => {
      const { stores, session, agent } = await setup(() => ({ content: 'recovered' }));
      await stores.storage.loadTurnContext(session, { maxRecords: 1, lease: { owner: 'crashed', ttlMs: 1 } });
      await pause(5);
      await expect(withTimeout(agent.turn(session, 'hi'), 'turn after a crash')).resolves.toMatchObject({
        turn: { finalContent: 'recovered' },
      });
    });

    it('rejects with ABORTED while waiting and leaves the lease to its holder', async () => {
      const { stores, session, agent } = await setup(() => ({ content: 'never' }));
      await stores.storage.loadTurnContext(session, { maxRecords: 1, lease: FOREIGN });
      const controller = new AbortController();
      const turn = agent.turn(session, 'hello', { signal: controller.signal });
      await pause(30);
      controller.abort();
      expect(await withTimeout(rejection(turn), 'aborted wait')).toMatchObject({ code: 'ABORTED' });
      await stores.storage.releaseTurnLease(session, FOREIGN.owner);
      expect(await leaseIsFree(stores, session)).toBe(true);
    });

    it('releases the lease when a turn is aborted during the model call', async () => {
      const hold = gate();
      const { stores, session, agent, llm } = await setup(async () => {
        await hold.promise;
        return { content: 'too late' };
      });
      const controller = new AbortController();
      const turn = agent.turn(session, 'hello', { signal: controller.signal });
      await vi.waitFor(() => expect(llm.calls).toHaveLength(1));
      expect(await leaseIsFree(stores, session)).toBe(false);
      controller.abort();
      expect(await rejection(turn)).toMatchObject({ code: 'ABORTED' });
      // The model call is still hanging: only the release can have freed the lease.
      await vi.waitFor(async () => expect(await leaseIsFree(stores, session)).toBe(true));
      hold.open();
    });

    it('releases the lease when the model fails, and issues no release after a commit', async () => {
      let fail = true;
      const { stores, session, agent } = await setup(() => {
        if (fail) throw new Error('provider down');
        return { content: 'fine' };
      });
      const release = vi.spyOn(stores.storage, 'releaseTurnLease');
      const renew = vi.spyOn(stores.storage, 'renewTurnLease');

      expect(await rejection(agent.turn(session, 'one'))).toMatchObject({ code: 'LLM_ERROR' });
      expect(release).toHaveBeenCalledTimes(1);
      expect(await leaseIsFree(stores, session)).toBe(true);
      release.mockClear();

      fail = false;
      await agent.turn(session, 'two');
      expect(release).not.toHaveBeenCalled();
      expect(renew).not.toHaveBeenCalled();
      expect(await leaseIsFree(stores, session)).toBe(true);
    });

    it('renews the lease of a turn that runs longer than a third of its ttl', async () => {
      const hold = gate();
      const { stores, session, agent } = await setup(
        async () => {
          await hold.promise;
          return { content: 'slow' };
        },
        { orchestration: { turnLeaseTtlMs: 300 } },
      );
      const renew = vi.spyOn(stores.storage, 'renewTurnLease');
      const turn = agent.turn(session, 'take your time');
      // Three renewals, one every 100 ms: the original 300 ms lease has lapsed by now, so only
      // the renewals keep other owners out.
      await vi.waitFor(() => expect(renew.mock.calls.length).toBeGreaterThanOrEqual(3), {
        timeout: BOUNDED_WAIT_MS,
      });
      expect(await Promise.all(renew.mock.results.map((result) => result.value))).not.toContain(false);
      expect(await leaseIsFree(stores, session)).toBe(false);
      hold.open();
      await turn;
      const renewals = renew.mock.calls.length;
      await pause(250);
      expect(renew).toHaveBeenCalledTimes(renewals);
      expect(await leaseIsFree(stores, session)).toBe(true);
    });

    it('reports a lease lost during a long turn and stops renewing it', async () => {
      const hold = gate();
      const { stores, session, agent, errors } = await setup(
        async () => {
          await hold.promise;
          return { content: 'slow' };
        },
        { orchestration: { turnLeaseTtlMs: 60 } },
      );
      const renew = vi.spyOn(stores.storage, 'renewTurnLease').mockResolvedValue(false);
      const turn = agent.turn(session, 'x');
      await vi.waitFor(() => expect(errors).toHaveLength(1), { timeout: BOUNDED_WAIT_MS });
      expect(errors[0]).toMatchObject({
        phase: 'turn-lease',
        sessionId: session,
        error: { code: 'SESSION_BUSY' },
      });
      await pause(60);
      expect(renew).toHaveBeenCalledTimes(1);
      hold.open();
      await turn;
    });

    it('releases a lease taken by a read that was still running when the turn was aborted', async () => {
      const { stores, session, agent, llm } = await setup(() => ({ content: 'never' }));
      const load = stores.storage.loadTurnContext.bind(stores.storage);
      const reading = gate();
      const slowRead = gate();
      let lateRead: Promise<unknown> | undefined;
      vi.spyOn(stores.storage, 'loadTurnContext').mockImplementationOnce(async (...args) => {
        reading.open();
        await slowRead.promise;
        const read = load(...args);
        lateRead = read;
        return read;
      });
      const controller = new AbortController();
      const turn = agent.turn(session, 'hello', { signal: controller.signal });
      await reading.promise;
      controller.abort();
      expect(await rejection(turn)).toMatchObject({ code: 'ABORTED' });
      slowRead.open();
      await vi.waitFor(() => expect(lateRead).toBeDefined());
      // The read took the lease after the abort; only the release of its draft frees it.
      await expect(lateRead).resolves.toMatchObject({ meta: { id: session } });
      await vi.waitFor(async () => expect(await leaseIsFree(stores, session)).toBe(true));
      expect(llm.calls).toHaveLength(0);
    });

    it('reports a failed release as a turn-lease error and rejects with the turn error', async () => {
      const { stores, session, agent, errors } = await setup(() => {
        throw new Error('provider down');
      });
      vi.spyOn(stores.storage, 'releaseTurnLease').mockRejectedValue(new Error('database gone'));
      expect(await rejection(agent.turn(session, 'x'))).toMatchObject({ code: 'LLM_ERROR' });
      expect(errors).toEqual([
        expect.objectContaining({ phase: 'turn-lease', sessionId: session, error: expect.any(Error) }),
      ]);
      expect(errors[0]?.error).toMatchObject({ message: 'database gone' });
    });

    it('lets a tool run a turn on its own session without waiting for its own lease', async () => {
      let nested: unknown = null;
      const nestedTurn = tool(
        'nested_turn',
        'runs a turn on the same session',
        {},
        async (_input, context) => {
          nested = await context.agent.turn(context.sessionId, 'inner');
          return 'done';
        },
      );
      const { stores, session, agent } = await setup(
        (call) => {
          const last = lastMessage(call);
          if (last.role === 'user' && last.content === 'outer') {
            return { content: null, toolCalls: [callTool('t', 'nested_turn')] };
          }
          return { content: `re: ${last.content}` };
        },
        { capabilities: { tools: [nestedTurn] }, orchestration: { turnLeaseWaitMs: 60_000 } },
      );
      // Waiting for its own lease, the nested turn would hold the tool for the whole wait bound.
      await withTimeout(
        agent.turn(session, 'outer').catch(() => undefined),
        'turn whose tool runs a turn on its own session',
      );
      expect(nested).toMatchObject({ turn: { finalContent: 're: inner' } });
      expect(await leaseIsFree(stores, session)).toBe(true);
    });

    it('refuses a turnLeaseTtlMs or turnLeaseWaitMs it cannot use', () => {
      const stores = createInMemoryStores();
      for (const orchestration of [{ turnLeaseTtlMs: 0 }, { turnLeaseTtlMs: 1.5 }, { turnLeaseWaitMs: -1 }]) {
        let caught: unknown;
        try {
          createStelloAgent({ ...stores, orchestration });
        } catch (error) {
          caught = error;
        }
        expect(isCodedError(caught, 'INVALID_ARGUMENT'), JSON.stringify(orchestration)).toBe(true);
      }
    });
  });
});
