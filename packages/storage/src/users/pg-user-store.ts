import type { Database, UserRow } from '@stello-ai/db';
import { type Kysely, sql } from 'kysely';
import { DEFAULT_CONTROL_CHANNEL, KEY_REVOKED_EVENT } from '../control/pg-control-channel';
import { withPgErrors } from '../pg-errors';
import type { StoredKey, User, UserKeyStore } from './user-key-store';

type UserColumns = Pick<UserRow, 'id' | 'name' | 'api_key_prefix' | 'created_at' | 'key_revoked_at'>;
const USER_COLUMNS = ['id', 'name', 'api_key_prefix', 'created_at', 'key_revoked_at'] as const;

function toIso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/**
 * The NOTIFY of a statement that revokes or replaces a user's key. It leaves at commit with the
 * write, from whichever process made it (the CLI included): every server then drops the old key
 * from its cache and closes its sockets.
 */
function oldKeyDroppedNotify() {
  return sql<void>`pg_notify(
    ${DEFAULT_CONTROL_CHANNEL}::text,
    json_build_object(
      'kind', ${KEY_REVOKED_EVENT}::text,
      'instanceId', 0,
      'data', json_build_object('userId', users.id)
    )::text
  )`;
}

function toUser(row: UserColumns): User {
  return {
    id: row.id,
    name: row.name,
    keyPrefix: row.api_key_prefix,
    createdAt: toIso(row.created_at),
    keyRevokedAt: row.key_revoked_at === null ? null : toIso(row.key_revoked_at),
  };
}

/** Users and API key hashes in PostgreSQL; errors go through `translatePgError`. */
export class PgUserStore implements UserKeyStore {
  readonly #db: Kysely<Database>;

  /** @internal use `PgStores.users` */
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  createUser(name: string, key: StoredKey): Promise<User> {
    return withPgErrors(async () => {
      const row = await this.#db
        .insertInto('users')
        .values({
          name,
          api_key_hash: key.hash,
          api_key_prefix: key.prefix,
          key_created_at: sql<Date>`now()`,
        })
        .returning(USER_COLUMNS)
        .executeTakeFirstOrThrow();
      return toUser(row);
    });
  }

  findByKeyHash(hash: string): Promise<{ userId: string; keyHash: string } | null> {
    return withPgErrors(async () => {
      const row = await this.#db
        .selectFrom('users')
        .select(['id', 'api_key_hash'])
        .where('api_key_hash', '=', hash)
        .executeTakeFirst();
      return row?.api_key_hash ? { userId: row.id, keyHash: row.api_key_hash } : null;
    });
  }

  findByKeyPrefix(prefix: string, limit: number): Promise<string[]> {
    return withPgErrors(async () => {
      const rows = await this.#db
        .selectFrom('users')
        .select('id')
        .where('api_key_prefix', '=', prefix)
        .where('api_key_hash', 'is not', null)
        .limit(limit)
        .execute();
      return rows.map((row) => row.id);
    });
  }

  replaceKey(userId: string, key: StoredKey): Promise<boolean> {
    return withPgErrors(async () => {
      const row = await this.#db
        .updateTable('users')
        .set({
          api_key_hash: key.hash,
          api_key_prefix: key.prefix,
          key_created_at: sql<Date>`now()`,
          key_revoked_at: null,
        })
        .where('id', '=', userId)
        .returning(['id', oldKeyDroppedNotify().as('notified')])
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  revokeKey(userId: string): Promise<boolean> {
    return withPgErrors(async () => {
      const row = await this.#db
        .updateTable('users')
        .set({ api_key_hash: null, key_revoked_at: sql<Date>`now()` })
        .where('id', '=', userId)
        .where('api_key_hash', 'is not', null)
        .returning(['id', oldKeyDroppedNotify().as('notified')])
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  listUsers(): Promise<User[]> {
    return withPgErrors(async () => {
      const rows = await this.#db
        .selectFrom('users')
        .select(USER_COLUMNS)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toUser);
    });
  }
}
