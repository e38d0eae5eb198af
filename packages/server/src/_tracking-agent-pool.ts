import type { StelloAgent } from '@stello-ai/core';
import { AgentPool } from '@stello-ai/runtime';

// Pruning dead references once the set doubles keeps the bookkeeping O(1) amortised.
const MIN_PRUNE_SIZE = 64;

/**
 * An `AgentPool` that remembers the agents it handed out, so `close()` can wait for their running
 * turns and background memory work. References are weak: an agent the pool evicted and nobody
 * uses any more is collected as usual.
 * @internal
 */
export class TrackingAgentPool extends AgentPool {
  #refs = new Set<WeakRef<StelloAgent>>();
  #seen = new WeakSet<StelloAgent>();
  #pruneAt = MIN_PRUNE_SIZE;

  override async getAgent(spaceId: string): Promise<StelloAgent> {
    const agent = await super.getAgent(spaceId);
    if (!this.#seen.has(agent)) {
      this.#seen.add(agent);
      this.#refs.add(new WeakRef(agent));
      if (this.#refs.size >= this.#pruneAt) this.#prune();
    }
    return agent;
  }

  /** Every agent handed out that is still alive (in the pool or still referenced by work). */
  liveAgents(): StelloAgent[] {
    const agents: StelloAgent[] = [];
    for (const ref of this.#refs) {
      const agent = ref.deref();
      if (agent === undefined) this.#refs.delete(ref);
      else agents.push(agent);
    }
    return agents;
  }

  #prune(): void {
    this.liveAgents();
    this.#pruneAt = Math.max(MIN_PRUNE_SIZE, this.#refs.size * 2);
  }
}
