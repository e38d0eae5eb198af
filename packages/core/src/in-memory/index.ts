import { InMemoryStorageAdapter, InMemoryStore } from '@stello-ai/session';
import { InMemoryMemoryEngine } from './memory-engine';
import { InMemorySessionTree } from './session-tree';

export { InMemoryMemoryEngine } from './memory-engine';
export { InMemorySessionTree } from './session-tree';

/** The four views of one in-memory space. */
export interface InMemoryStores {
  store: InMemoryStore;
  storage: InMemoryStorageAdapter;
  sessions: InMemorySessionTree;
  memory: InMemoryMemoryEngine;
}

/**
 * Creates one in-memory space and its views: session storage, session tree and memory engine,
 * all over the same store. The space starts without a root: call `sessions.createRoot()`.
 *
 * @example
 * const { storage, sessions, memory } = createInMemoryStores();
 * await sessions.createRoot('My space');
 * const agent = createStelloAgent({ sessions, memory, storage, llm });
 */
export function createInMemoryStores(): InMemoryStores {
  const store = new InMemoryStore();
  return {
    store,
    storage: new InMemoryStorageAdapter(store),
    sessions: new InMemorySessionTree(store),
    memory: new InMemoryMemoryEngine(store),
  };
}
