/** A user as stored: never the key, only its hash's owner and a display prefix. Timestamps are ISO-8601. */
export interface User {
  id: string;
  name: string;
  /** The first characters of the current key, for display; `null` when the user has no key. */
  keyPrefix: string | null;
  createdAt: string;
  /** When the last key was revoked; `null` while a key is active (or none was ever revoked). */
  keyRevokedAt: string | null;
}

/** A key as stored: its SHA-256 hash (hex) and its display prefix. The key itself is never stored. */
export interface StoredKey {
  hash: string;
  prefix: string;
}

/**
 * Where users and their API keys are kept. A user has at most one active key; a key hash
 * belongs to one user at most. Ids are uuids; the caller validates every value first.
 */
export interface UserKeyStore {
  /**
   * Creates a user with an active key.
   * @throws StorageError `CONFLICT` when another user has the same key hash
   */
  createUser(name: string, key: StoredKey): Promise<User>;
  /** The user whose active key has this hash, with the stored hash; `null` when none. */
  findByKeyHash(hash: string): Promise<{ userId: string; keyHash: string } | null>;
  /** Ids of (at most `limit`) users whose active key has this display prefix. */
  findByKeyPrefix(prefix: string, limit: number): Promise<string[]>;
  /** Replaces the user's key (and clears any revocation); `false` when the user does not exist. */
  replaceKey(userId: string, key: StoredKey): Promise<boolean>;
  /** Revokes the user's active key; `false` when there is no such user or no active key. */
  revokeKey(userId: string): Promise<boolean>;
  /** Every user, oldest first (ties broken by id). */
  listUsers(): Promise<User[]>;
}
