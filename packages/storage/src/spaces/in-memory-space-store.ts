import { randomUUID } from 'node:crypto';
import { StorageError } from '../errors';
import type { NewSpace, Space, SpacePage, SpacePatch, SpaceStore } from './space-store';

/** Options of `InMemorySpaceStore`. */
export interface InMemorySpaceStoreOptions {
  /** Whether a user exists (default: every user does); an unknown owner fails `create`. */
  userExists?: (userId: string) => boolean;
}

/** Copies, so a caller mutating what it got back never changes the stored space. */
function copy(space: Space): Space {
  return { ...space, config: structuredClone(space.config) };
}

/**
 * A `SpaceStore` in process memory, for tests and single-process embedding. It keeps the spaces
 * only (no session tree): the root invariants belong to the backends that store sessions.
 */
export class InMemorySpaceStore implements SpaceStore {
  readonly #spaces = new Map<string, Space>();
  readonly #userExists: (userId: string) => boolean;
  #lastTime = 0;

  constructor(options: InMemorySpaceStoreOptions = {}) {
    this.#userExists = options.userExists ?? (() => true);
  }

  async create(input: NewSpace): Promise<Space> {
    if (!this.#userExists(input.userId)) {
      throw new StorageError('INVALID_REFERENCE', `user "${input.userId}" does not exist`, {
        details: { constraint: 'spaces_user_id_fkey' },
      });
    }
    const now = this.#now();
    const space: Space = {
      id: randomUUID(),
      ...input,
      config: structuredClone(input.config),
      createdAt: now,
      updatedAt: now,
    };
    this.#spaces.set(space.id, space);
    return copy(space);
  }

  async get(spaceId: string): Promise<Space | null> {
    const space = this.#spaces.get(spaceId);
    return space ? copy(space) : null;
  }

  async update(spaceId: string, patch: SpacePatch): Promise<Space | null> {
    const space = this.#spaces.get(spaceId);
    if (!space) return null;
    const fields = Object.entries(patch).filter(([, value]) => value !== undefined);
    if (fields.length === 0) return copy(space);
    const updated: Space = { ...space, ...Object.fromEntries(fields), updatedAt: this.#now() };
    if (patch.config !== undefined) updated.config = structuredClone(patch.config);
    this.#spaces.set(spaceId, updated);
    return copy(updated);
  }

  async list(userId: string, page: SpacePage = {}): Promise<Space[]> {
    // Insertion order is creation order, and creation times strictly increase.
    let spaces = [...this.#spaces.values()].filter((space) => space.userId === userId);
    if (page.after !== undefined) {
      const index = spaces.findIndex((space) => space.id === page.after);
      spaces = index === -1 ? [] : spaces.slice(index + 1);
    }
    if (page.limit !== undefined) spaces = spaces.slice(0, page.limit);
    return spaces.map(copy);
  }

  async delete(spaceId: string): Promise<boolean> {
    return this.#spaces.delete(spaceId);
  }

  /** A strictly increasing ISO time, so creation order is also time order. */
  #now(): string {
    this.#lastTime = Math.max(Date.now(), this.#lastTime + 1);
    return new Date(this.#lastTime).toISOString();
  }
}
