import { randomUUID } from 'node:crypto';
import { StorageError } from '../errors';
import type { StoredKey, User, UserKeyStore } from './user-key-store';

interface UserEntry {
  user: User;
  keyHash: string | null;
}

/** A `UserKeyStore` in process memory, for tests and single-process embedding. */
export class InMemoryUserStore implements UserKeyStore {
  readonly #users = new Map<string, UserEntry>();
  #lastTime = 0;

  /** Whether the user exists (what `InMemorySpaceStore`'s `userExists` wants). */
  has(userId: string): boolean {
    return this.#users.has(userId);
  }

  async createUser(name: string, key: StoredKey): Promise<User> {
    this.#assertHashFree(key.hash);
    const user: User = {
      id: randomUUID(),
      name,
      keyPrefix: key.prefix,
      createdAt: this.#now(),
      keyRevokedAt: null,
    };
    this.#users.set(user.id, { user, keyHash: key.hash });
    return { ...user };
  }

  async findByKeyHash(hash: string): Promise<{ userId: string; keyHash: string } | null> {
    for (const entry of this.#users.values()) {
      if (entry.keyHash === hash) return { userId: entry.user.id, keyHash: hash };
    }
    return null;
  }

  async findByKeyPrefix(prefix: string, limit: number): Promise<string[]> {
    return [...this.#users.values()]
      .filter((entry) => entry.keyHash !== null && entry.user.keyPrefix === prefix)
      .slice(0, limit)
      .map((entry) => entry.user.id);
  }

  async replaceKey(userId: string, key: StoredKey): Promise<boolean> {
    const entry = this.#users.get(userId);
    if (!entry) return false;
    if (entry.keyHash !== key.hash) this.#assertHashFree(key.hash);
    entry.keyHash = key.hash;
    entry.user = { ...entry.user, keyPrefix: key.prefix, keyRevokedAt: null };
    return true;
  }

  async revokeKey(userId: string): Promise<boolean> {
    const entry = this.#users.get(userId);
    if (!entry || entry.keyHash === null) return false;
    entry.keyHash = null;
    entry.user = { ...entry.user, keyRevokedAt: new Date().toISOString() };
    return true;
  }

  async listUsers(): Promise<User[]> {
    return [...this.#users.values()].map((entry) => ({ ...entry.user }));
  }

  #assertHashFree(hash: string): void {
    for (const entry of this.#users.values()) {
      if (entry.keyHash === hash) {
        throw new StorageError('CONFLICT', 'another user has this key', {
          details: { constraint: 'users_api_key_hash_key' },
        });
      }
    }
  }

  /** A strictly increasing ISO time, so creation order is also time order. */
  #now(): string {
    this.#lastTime = Math.max(Date.now(), this.#lastTime + 1);
    return new Date(this.#lastTime).toISOString();
  }
}
