import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { createPool } from '@stello-ai/db';
import { isCodedError } from '@stello-ai/session';
import { PgStores } from '@stello-ai/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countQueries, insertUser, rejection } from './__fixtures__/pool-probes';
import { type Space, SpaceManager } from './space-manager';

let db: TestDatabase;
let spaces: SpaceManager;

beforeAll(async () => {
  db = await createTestDatabase();
  spaces = new SpaceManager(new PgStores(db.pool).spaces);
});
afterAll(() => db.drop());

function newUser(name = 'alice'): Promise<string> {
  return insertUser(db.pool, name);
}

async function rootOf(spaceId: string) {
  const { rows } = await db.pool.query<{
    id: string;
    label: string;
    role: string;
    depth: number;
    index: number;
    updated_at: Date;
  }>(
    'select id, label, role, depth, "index", updated_at from sessions where space_id = $1 and parent_id is null',
    [spaceId],
  );
  return rows;
}

async function rootPrompt(spaceId: string): Promise<string | null> {
  const { rows } = await db.pool.query<{ content: string }>(
    `select d.content from session_data d join sessions s on s.id = d.session_id
     where s.space_id = $1 and s.parent_id is null and d.key = 'system_prompt'`,
    [spaceId],
  );
  return rows[0]?.content ?? null;
}

/** Counts the statements sent on pooled clients while `fn` runs (BEGIN and COMMIT included). */
async function countStatements(fn: () => Promise<unknown>): Promise<number> {
  let count = 0;
  const wrapped = new WeakSet<object>();
  const onAcquire = (client: { query: (...args: unknown[]) => unknown }) => {
    if (wrapped.has(client)) return;
    wrapped.add(client);
    const query = client.query.bind(client);
    client.query = (...args: unknown[]) => {
      if (counting) count += 1;
      return query(...args);
    };
  };
  let counting = true;
  db.pool.on('acquire', onAcquire as never);
  try {
    await fn();
  } finally {
    counting = false;
    db.pool.off('acquire', onAcquire as never);
  }
  return count;
}

async function countRows(table: 'spaces' | 'sessions' | 'session_data'): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(`select count(*)::int as n from ${table}`);
  return rows[0]!.n;
}

describe('SpaceManager', () => {
  describe('createSpace', () => {
    it('creates the space, its root session and the root prompt slot when a system prompt is given', async () => {
      const userId = await newUser();
      const space = await spaces.createSpace(userId, {
        label: 'Research',
        systemPrompt: 'You are helpful.',
        consolidatePrompt: 'Summarize.',
        integratePrompt: 'Integrate.',
        config: { consolidateEveryNTurns: 3 },
      });
      expect(space).toMatchObject({
        userId,
        label: 'Research',
        systemPrompt: 'You are helpful.',
        consolidatePrompt: 'Summarize.',
        integratePrompt: 'Integrate.',
        config: { consolidateEveryNTurns: 3 },
      });
      expect(new Date(space.createdAt).toISOString()).toBe(space.createdAt);
      expect(new Date(space.updatedAt).toISOString()).toBe(space.updatedAt);
      const roots = await rootOf(space.id);
      expect(roots).toHaveLength(1);
      expect(roots[0]).toMatchObject({ label: 'Research', role: 'main', depth: 0, index: 0 });
      expect(await rootPrompt(space.id)).toBe('You are helpful.');
      expect(await spaces.getSpace(space.id)).toEqual(space);
    });

    it('creates no prompt slot and null prompts when none are given', async () => {
      const userId = await newUser();
      const space = await spaces.createSpace(userId, { label: 'Bare' });
      expect(space).toMatchObject({
        systemPrompt: null,
        consolidatePrompt: null,
        integratePrompt: null,
        config: {},
      });
      expect(await rootOf(space.id)).toHaveLength(1);
      expect(await rootPrompt(space.id)).toBeNull();
    });

    it('writes nothing and throws USER_NOT_FOUND when the user does not exist', async () => {
      const before = await Promise.all([
        countRows('spaces'),
        countRows('sessions'),
        countRows('session_data'),
      ]);
      const error = await rejection(spaces.createSpace(randomUUID(), { label: 'Orphan', systemPrompt: 'p' }));
      expect(isCodedError(error, 'USER_NOT_FOUND')).toBe(true);
      const after = await Promise.all([
        countRows('spaces'),
        countRows('sessions'),
        countRows('session_data'),
      ]);
      expect(after).toEqual(before);
    });

    it('throws USER_NOT_FOUND without a query when the user id is malformed', async () => {
      expect(
        isCodedError(await rejection(spaces.createSpace('not-a-uuid', { label: 'x' })), 'USER_NOT_FOUND'),
      ).toBe(true);
    });

    it('throws INVALID_ARGUMENT when the label is blank or a field has the wrong type', async () => {
      const userId = await newUser();
      const before = await countRows('spaces');
      const bad: unknown[] = [
        { label: '' },
        { label: '   ' },
        { label: 42 },
        { label: 'ok', systemPrompt: 7 },
        { label: 'ok', config: [1, 2] },
        { label: 'ok', config: 'text' },
        { label: 'nul\u0000byte' },
        { label: 'ok', config: { nested: 'nul\u0000' } },
      ];
      for (const config of bad) {
        const error = await rejection(spaces.createSpace(userId, config as never));
        expect(isCodedError(error, 'INVALID_ARGUMENT'), JSON.stringify(config)).toBe(true);
      }
      expect(await countRows('spaces')).toBe(before);
    });
  });

  describe('round trips', () => {
    it('creates and updates a space with one statement each', async () => {
      const userId = await newUser();
      let spaceId = '';
      expect(
        await countStatements(async () => {
          spaceId = (await spaces.createSpace(userId, { label: 'One', systemPrompt: 'p' })).id;
        }),
      ).toBe(1);
      expect(
        await countStatements(() =>
          spaces.updateSpace(spaceId, { label: 'Two', systemPrompt: null, config: { x: 1 } }),
        ),
      ).toBe(1);
    });
  });

  describe('getSpace', () => {
    it('returns null when the space does not exist or the id is malformed', async () => {
      expect(await spaces.getSpace(randomUUID())).toBeNull();
      expect(await spaces.getSpace('nope')).toBeNull();
      expect(await spaces.getSpace("'; drop table spaces; --")).toBeNull();
    });

    // One connection, so the statements prepared on it are the ones the lookups left there.
    async function preparedAfterLookup(preparedStatements: boolean | undefined) {
      const pool = createPool({ connectionString: db.url, max: 1 });
      try {
        const manager = new SpaceManager(new PgStores(pool, { preparedStatements }).spaces);
        const space = await spaces.createSpace(await newUser(), { label: 'Prepared', config: { a: 1 } });
        const found = await manager.getSpace(space.id);
        const { rows } = await pool.query<{ name: string }>(
          `select name from pg_prepared_statements where statement ilike '%from "spaces" where "id"%'`,
        );
        return { space, found, names: rows.map((row) => row.name) };
      } finally {
        await pool.end();
      }
    }

    it('looks the space up with a named prepared statement by default', async () => {
      const { space, found, names } = await preparedAfterLookup(undefined);

      expect(found).toEqual(space);
      expect(names).toEqual([expect.stringMatching(/^stello_[0-9a-f]{20}$/)]);
    });

    it('prepares nothing and returns the same space with preparedStatements: false', async () => {
      const { space, found, names } = await preparedAfterLookup(false);

      expect(found).toEqual(space);
      expect(names).toEqual([]);
    });

    it('rejects a preparedStatements option that is not a boolean', () => {
      expect(() => new PgStores(db.pool, { preparedStatements: 'yes' as never })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { field: 'preparedStatements' } }),
      );
    });
  });

  describe('cache', () => {
    it('reads a space once, then answers from memory until cacheTtlMs passes', async () => {
      const manager = new SpaceManager(new PgStores(db.pool).spaces, { cacheTtlMs: 60_000 });
      const space = await spaces.createSpace(await newUser(), { label: 'cached' });
      const queries = await countQueries(db.pool, async () => {
        expect(await manager.getSpace(space.id)).toEqual(space);
        expect(await manager.getSpace(space.id)).toEqual(space);
      });
      expect(queries).toBe(1);
      const uncached = new SpaceManager(new PgStores(db.pool).spaces, { cacheTtlMs: 0 });
      const cold = await countQueries(db.pool, async () => {
        await uncached.getSpace(space.id);
        await uncached.getSpace(space.id);
      });
      expect(cold).toBe(2);
    });

    it('replaces a cached space at once when it is updated or deleted through the manager', async () => {
      const space = await spaces.createSpace(await newUser(), { label: 'before' });
      await spaces.getSpace(space.id);
      const updated = await spaces.updateSpace(space.id, { label: 'after' });
      const queries = await countQueries(db.pool, async () => {
        expect(await spaces.getSpace(space.id)).toEqual(updated);
      });
      expect(queries).toBe(0);
      await spaces.deleteSpace(space.id);
      expect(await spaces.getSpace(space.id)).toBeNull();
    });

    it('keeps a held space past its expiry and current, until released', async () => {
      const manager = new SpaceManager(new PgStores(db.pool).spaces, { cacheTtlMs: 1 });
      const space = await spaces.createSpace(await newUser(), { label: 'held' });
      const held = manager.hold(space);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const queries = await countQueries(db.pool, async () => {
        expect(await manager.getSpace(space.id)).toEqual(space);
      });
      expect(queries).toBe(0);
      const updated = await manager.updateSpace(space.id, { consolidatePrompt: 'new' });
      expect(held.space).toEqual(updated);
      held.release();
      await new Promise((resolve) => setTimeout(resolve, 5));
      const afterRelease = await countQueries(db.pool, () => manager.getSpace(space.id));
      expect(afterRelease).toBe(1);
    });

    it('rejects a missing store and a bad cacheTtlMs', () => {
      expect(() => new SpaceManager(db.pool as never)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
      for (const cacheTtlMs of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
        expect(() => new SpaceManager(new PgStores(db.pool).spaces, { cacheTtlMs })).toThrow(/cacheTtlMs/);
      }
    });
  });

  describe('updateSpace', () => {
    it('updates the fields and mirrors label and system prompt to the root', async () => {
      const userId = await newUser();
      const space = await spaces.createSpace(userId, { label: 'Old', systemPrompt: 'old prompt' });
      const updated = await spaces.updateSpace(space.id, {
        label: 'New',
        systemPrompt: 'new prompt',
        consolidatePrompt: 'consolidate!',
        integratePrompt: 'integrate!',
        config: { a: 1 },
      });
      expect(updated).toMatchObject({
        id: space.id,
        label: 'New',
        systemPrompt: 'new prompt',
        consolidatePrompt: 'consolidate!',
        integratePrompt: 'integrate!',
        config: { a: 1 },
        createdAt: space.createdAt,
      });
      expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(space.updatedAt));
      expect((await rootOf(space.id))[0]?.label).toBe('New');
      expect(await rootPrompt(space.id)).toBe('new prompt');
      expect(await spaces.getSpace(space.id)).toEqual(updated);
    });

    it('creates the root prompt slot when the space had no system prompt', async () => {
      const userId = await newUser();
      const space = await spaces.createSpace(userId, { label: 'S' });
      await spaces.updateSpace(space.id, { systemPrompt: 'now set' });
      expect(await rootPrompt(space.id)).toBe('now set');
    });

    it('clears the prompt and deletes the root slot when systemPrompt is null', async () => {
      const userId = await newUser();
      const space = await spaces.createSpace(userId, {
        label: 'S',
        systemPrompt: 'p',
        consolidatePrompt: 'c',
      });
      const updated = await spaces.updateSpace(space.id, { systemPrompt: null, consolidatePrompt: null });
      expect(updated).toMatchObject({ systemPrompt: null, consolidatePrompt: null, label: 'S' });
      expect(await rootPrompt(space.id)).toBeNull();
    });

    it('leaves the other fields and the root alone when only one field is given', async () => {
      const userId = await newUser();
      const space = await spaces.createSpace(userId, {
        label: 'Keep',
        systemPrompt: 'keep me',
        config: { k: true },
      });
      const rootBefore = (await rootOf(space.id))[0]!;
      const updated = await spaces.updateSpace(space.id, { integratePrompt: 'only this' });
      expect(updated).toMatchObject({ label: 'Keep', systemPrompt: 'keep me', config: { k: true } });
      expect(await rootPrompt(space.id)).toBe('keep me');
      const rootAfter = (await rootOf(space.id))[0]!;
      expect(rootAfter.updated_at.getTime()).toBe(rootBefore.updated_at.getTime());
    });

    it('returns the space unchanged when the update has no field', async () => {
      const userId = await newUser();
      const space = await spaces.createSpace(userId, { label: 'Same' });
      expect(await spaces.updateSpace(space.id, {})).toEqual(space);
    });

    it('changes nothing and throws INVALID_ARGUMENT when one field is invalid', async () => {
      const userId = await newUser();
      const space = await spaces.createSpace(userId, { label: 'Stable', systemPrompt: 'stable prompt' });
      const bad: unknown[] = [
        { label: 'Changed', systemPrompt: 'changed', config: ['not', 'an', 'object'] },
        { label: '', systemPrompt: 'changed' },
        { label: 'Changed', label2: 1, systemPrompt: 5 },
        { systemPrompt: 'changed', consolidatePrompt: {} },
        { label: 'Changed', config: null },
      ];
      for (const update of bad) {
        const error = await rejection(spaces.updateSpace(space.id, update as never));
        expect(isCodedError(error, 'INVALID_ARGUMENT'), JSON.stringify(update)).toBe(true);
      }
      expect(await spaces.getSpace(space.id)).toEqual(space);
      expect((await rootOf(space.id))[0]?.label).toBe('Stable');
      expect(await rootPrompt(space.id)).toBe('stable prompt');
    });

    it('rolls back the space row when the root slot write fails inside the statement', async () => {
      const userId = await newUser();
      const space = await spaces.createSpace(userId, { label: 'Atomic', systemPrompt: 'before' });
      // A trigger that fails the slot write proves the space update cannot commit on its own.
      await db.pool.query(`
        create function fail_on_explode() returns trigger language plpgsql as $$
        begin
          if new.content = 'explode' then raise exception 'boom'; end if;
          return new;
        end $$;
        create trigger session_data_explode before insert or update on session_data
          for each row execute function fail_on_explode();`);
      try {
        await expect(
          spaces.updateSpace(space.id, { label: 'After', systemPrompt: 'explode' }),
        ).rejects.toThrow(/boom/);
        expect(await spaces.getSpace(space.id)).toEqual(space);
        expect((await rootOf(space.id))[0]?.label).toBe('Atomic');
        expect(await rootPrompt(space.id)).toBe('before');
      } finally {
        await db.pool.query(
          'drop trigger session_data_explode on session_data; drop function fail_on_explode();',
        );
      }
    });

    it('throws SPACE_NOT_FOUND when the space does not exist or the id is malformed', async () => {
      expect(
        isCodedError(await rejection(spaces.updateSpace(randomUUID(), { label: 'x' })), 'SPACE_NOT_FOUND'),
      ).toBe(true);
      expect(
        isCodedError(await rejection(spaces.updateSpace('bad-id', { label: 'x' })), 'SPACE_NOT_FOUND'),
      ).toBe(true);
      expect(isCodedError(await rejection(spaces.updateSpace(randomUUID(), {})), 'SPACE_NOT_FOUND')).toBe(
        true,
      );
    });
  });

  describe('listSpaces', () => {
    it('lists only the user’s spaces, oldest first', async () => {
      const alice = await newUser('alice');
      const bob = await newUser('bob');
      const a1 = await spaces.createSpace(alice, { label: 'a1' });
      const b1 = await spaces.createSpace(bob, { label: 'b1' });
      const a2 = await spaces.createSpace(alice, { label: 'a2' });
      const a3 = await spaces.createSpace(alice, { label: 'a3' });
      expect((await spaces.listSpaces(alice)).map((s) => s.id)).toEqual([a1.id, a2.id, a3.id]);
      expect((await spaces.listSpaces(bob)).map((s) => s.id)).toEqual([b1.id]);
      expect(await spaces.listSpaces(randomUUID())).toEqual([]);
      expect(await spaces.listSpaces('malformed')).toEqual([]);
    });

    it('pages with limit and after when spaces share a creation time', async () => {
      const userId = await newUser();
      // Created in one transaction: identical created_at, so the id breaks the tie.
      await db.pool.query(
        `insert into spaces (user_id, label) select $1, 'bulk ' || g from generate_series(1, 5) g`,
        [userId],
      );
      const all = await spaces.listSpaces(userId);
      expect(all).toHaveLength(5);
      const seen: Space[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await spaces.listSpaces(userId, { limit: 2, after });
        if (page.length === 0) break;
        seen.push(...page);
        after = page.at(-1)!.id;
      }
      expect(seen.map((s) => s.id)).toEqual(all.map((s) => s.id));
    });

    it('throws INVALID_ARGUMENT when limit or after is malformed', async () => {
      const userId = await newUser();
      for (const options of [{ limit: 0 }, { limit: 1.5 }, { limit: 1001 }, { after: 'nope' }]) {
        expect(isCodedError(await rejection(spaces.listSpaces(userId, options)), 'INVALID_ARGUMENT')).toBe(
          true,
        );
      }
    });
  });

  describe('deleteSpace', () => {
    it('deletes the space with its sessions, records and slots when it exists', async () => {
      const userId = await newUser();
      const space = await spaces.createSpace(userId, { label: 'Doomed', systemPrompt: 'p' });
      const root = (await rootOf(space.id))[0]!;
      await db.pool.query(
        `insert into records (space_id, session_id, role, content) values ($1, $2, 'user', 'hi')`,
        [space.id, root.id],
      );
      await spaces.deleteSpace(space.id);
      expect(await spaces.getSpace(space.id)).toBeNull();
      for (const table of ['sessions', 'session_data', 'records']) {
        const { rows } = await db.pool.query<{ n: number }>(
          `select count(*)::int as n from ${table} where space_id = $1`,
          [space.id],
        );
        expect(rows[0]?.n, table).toBe(0);
      }
    });

    it('throws SPACE_NOT_FOUND when the space does not exist', async () => {
      expect(isCodedError(await rejection(spaces.deleteSpace(randomUUID())), 'SPACE_NOT_FOUND')).toBe(true);
      expect(isCodedError(await rejection(spaces.deleteSpace('x')), 'SPACE_NOT_FOUND')).toBe(true);
    });
  });

  describe('onChange', () => {
    it('notifies its listeners on create, update and delete', async () => {
      const events: [string, string | null][] = [];
      const unsubscribe = spaces.onChange((spaceId, space) => events.push([spaceId, space?.label ?? null]));
      const userId = await newUser();
      const space = await spaces.createSpace(userId, { label: 'one' });
      await spaces.updateSpace(space.id, { label: 'two' });
      await spaces.deleteSpace(space.id);
      unsubscribe();
      await spaces.createSpace(userId, { label: 'unheard' });
      expect(events).toEqual([
        [space.id, 'one'],
        [space.id, 'two'],
        [space.id, null],
      ]);
    });

    it('keeps notifying the others when a listener throws', async () => {
      const heard: string[] = [];
      const offA = spaces.onChange(() => {
        throw new Error('listener bug');
      });
      const offB = spaces.onChange((spaceId) => heard.push(spaceId));
      const space = await spaces.createSpace(await newUser(), { label: 'x' });
      offA();
      offB();
      expect(heard).toEqual([space.id]);
    });

    it('does not notify when an update fails', async () => {
      const heard: string[] = [];
      const off = spaces.onChange((spaceId) => heard.push(spaceId));
      await rejection(spaces.updateSpace(randomUUID(), { label: 'x' }));
      off();
      expect(heard).toEqual([]);
    });
  });
});
