import { createTestDatabase, type TestDatabase } from '@internal/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EHarness, startHarness } from './__fixtures__/e2e-harness';
import {
  createV022Schema,
  insertV022Session,
  insertV022Space,
  insertV022User,
} from './__fixtures__/v022-database';
import { runCli } from './commands/run-cli';

// A database of the original @stello-ai/server v0.2.2, upgraded by `stello migrate --from-v0.2.2`,
// then served by today's server: the old keys must still authenticate.

interface CliRun {
  code: number;
  stdout: string[];
  stderr: string[];
}

async function cli(argv: string[], url: string): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(argv, {
    env: { DATABASE_URL: url },
    stdout: (line) => stdout.push(...line.split('\n')),
    stderr: (line) => stderr.push(...line.split('\n')),
  });
  return { code, stdout, stderr };
}

/** Everything a failed upgrade must leave as it was: tables, columns and row counts. */
async function snapshot(pool: pg.Pool): Promise<unknown> {
  const { rows: columns } = await pool.query(
    `SELECT table_name, column_name FROM information_schema.columns
     WHERE table_schema = current_schema() ORDER BY table_name, column_name`,
  );
  const { rows: schemas } = await pool.query(
    `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'stello%' ORDER BY nspname`,
  );
  const { rows: counts } = await pool.query(
    `SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM spaces)::int AS spaces,
            (SELECT count(*) FROM sessions)::int AS sessions, (SELECT count(*) FROM records)::int AS records,
            (SELECT string_agg(api_key, ',' ORDER BY api_key) FROM users) AS keys,
            (SELECT string_agg(id || ':' || coalesce(parent_id::text, '-') || ':' || depth || ':' || "index", ','
                               ORDER BY id) FROM sessions) AS tree`,
  );
  return { columns, schemas, counts };
}

describe('stello migrate --from-v0.2.2', () => {
  describe('on a v0.2.2 database with the defects the original left', () => {
    let db: TestDatabase;
    let h: E2EHarness | undefined;
    const aliceKey = 'alice-0.2.2-plaintext-key';
    const bobKey = 'bob-key-42';
    let aliceId: string;
    let bobId: string;
    let shortKeyUserId: string;
    let spaceId: string;
    let rootId: string;
    let first: string;
    let second: string;
    let grandchild: string;
    let forked: string;
    let upgrade: CliRun;

    beforeAll(async () => {
      db = await createTestDatabase({ migrated: false });
      await createV022Schema(db.pool);
      aliceId = await insertV022User(db.pool, aliceKey, 'Alice');
      bobId = await insertV022User(db.pool, bobKey, null);
      shortKeyUserId = await insertV022User(db.pool, 'abc', 'short');
      ({ spaceId, rootId } = await insertV022Space(db.pool, aliceId, 'Old space', 'You are helpful.'));
      // Two children with the same index (createChild's count-then-insert race)…
      first = await insertV022Session(db.pool, spaceId, rootId, 'First', { turnCount: 2 });
      second = await insertV022Session(db.pool, spaceId, rootId, 'Second');
      // …a grandchild whose depth putNode never recomputed…
      grandchild = await insertV022Session(db.pool, spaceId, first, 'Grandchild', { depth: 1 });
      // …and a fork whose provenance the orchestrator kept in metadata.
      forked = await insertV022Session(db.pool, spaceId, rootId, 'Forked', {
        index: 1,
        metadata: { sourceSessionId: first },
      });
      await db.pool.query(
        `INSERT INTO records (session_id, role, content) VALUES ($1, 'user', 'old question'), ($1, 'assistant', 'old answer')`,
        [first],
      );
      await db.pool.query(
        `INSERT INTO session_data (session_id, key, content) VALUES ($1, 'memory', 'old L2')`,
        [first],
      );
      await db.pool.query('INSERT INTO session_refs (from_id, to_id) VALUES ($1, $2)', [second, first]);
      await db.pool.query(`INSERT INTO core_data (space_id, path, value) VALUES ($1, 'goal', '"ship"')`, [
        spaceId,
      ]);

      upgrade = await cli(['migrate', '--from-v0.2.2'], db.url);
    });

    afterAll(async () => {
      await h?.close();
      await db?.drop();
    });

    it('upgrades in one go and prints counts, never a key', () => {
      expect(upgrade.stderr.join('\n')).toContain(shortKeyUserId);
      expect(upgrade.code).toBe(0);
      const out = upgrade.stdout.join('\n');
      expect(out).toContain('3 users');
      expect(out).toContain('1 spaces, 5 sessions, 2 records');
      expect(out).toMatch(/recomputed 1 depths and 2 sibling indexes; 1 fork provenances/);
      for (const secret of [aliceKey, bobKey, aliceKey.slice(0, 4), bobKey.slice(0, 4)]) {
        expect(out).not.toContain(secret);
        expect(upgrade.stderr.join('\n')).not.toContain(secret);
      }
    });

    it('keeps hashes only, and the tree with its invariants restored', async () => {
      const { rows: columns } = await db.pool.query(
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'users' AND table_schema = current_schema()`,
      );
      expect(columns.map((c) => c.column_name)).not.toContain('api_key');
      const { rows: users } = await db.pool.query('SELECT id, name, api_key_hash FROM users ORDER BY name');
      expect(users.find((u) => u.id === bobId).name).toBe(`user ${bobId.slice(0, 8)}`);
      for (const user of users) expect(user.api_key_hash).toMatch(/^[0-9a-f]{64}$/);
      const { rows: sessions } = await db.pool.query(
        `SELECT id, parent_id, depth, "index", source_session_id, turn_count, records_rev FROM sessions`,
      );
      const byId = new Map(sessions.map((s) => [s.id, s]));
      expect(byId.get(grandchild)).toMatchObject({ parent_id: first, depth: 2, index: 0 });
      expect([byId.get(first).index, byId.get(second).index, byId.get(forked).index].sort()).toEqual([
        0, 1, 2,
      ]);
      expect(byId.get(forked).source_session_id).toBe(first);
      expect(byId.get(first).turn_count).toBe(2);
      const { rows: schemas } = await db.pool.query(
        `SELECT nspname FROM pg_namespace WHERE nspname = 'stello_v022_legacy'`,
      );
      expect(schemas).toEqual([]);
    });

    it('is served by today’s server, and the old keys still authenticate', async () => {
      h = await startHarness(db.pool);
      const spaces = await h.api('GET', '/spaces', undefined, aliceKey);
      expect(spaces.status).toBe(200);
      expect(spaces.body.items ?? spaces.body).toEqual([
        expect.objectContaining({ id: spaceId, label: 'Old space', systemPrompt: 'You are helpful.' }),
      ]);
      expect((await h.api('GET', '/spaces', undefined, bobKey)).status).toBe(200);
      expect((await h.api('GET', `/spaces/${spaceId}`, undefined, bobKey)).status).toBe(403);
      expect((await h.api('GET', '/spaces', undefined, 'alice-0.2.2-plaintext-kez')).status).toBe(401);

      const messages = await h.api(
        'GET',
        `/spaces/${spaceId}/sessions/${first}/messages`,
        undefined,
        aliceKey,
      );
      expect(messages.status).toBe(200);
      const records = (messages.body.items ?? messages.body) as { role: string; content: string }[];
      expect(records.map((r) => [r.role, r.content])).toEqual([
        ['user', 'old question'],
        ['assistant', 'old answer'],
      ]);
      const memory = await h.api('GET', `/spaces/${spaceId}/sessions/${first}/memory`, undefined, aliceKey);
      expect(memory.body).toEqual({ content: 'old L2' });

      const turn = await h.api(
        'POST',
        `/spaces/${spaceId}/sessions/${first}/turn`,
        { input: 'new question' },
        aliceKey,
      );
      expect(turn.status).toBe(200);
      const fork = await h.api(
        'POST',
        `/spaces/${spaceId}/sessions/${grandchild}/fork`,
        { label: 'New fork' },
        aliceKey,
      );
      expect(fork.status).toBe(201);
      const session = await h.api('GET', `/spaces/${spaceId}/sessions/${first}`, undefined, aliceKey);
      expect(session.body).toMatchObject({ id: first, turnCount: 3 });
    });

    it('refuses a second run: the database is no longer v0.2.2', async () => {
      const again = await cli(['migrate', '--from-v0.2.2'], db.url);
      expect(again.code).toBe(1);
      expect(again.stderr.join('\n')).toMatch(/not a @stello-ai\/server v0\.2\.2 database.*NOT_V022_SCHEMA/s);
    });
  });

  describe('refusals', () => {
    let db: TestDatabase;
    let spaceId: string;
    let rootId: string;

    beforeAll(async () => {
      db = await createTestDatabase({ migrated: false });
      await createV022Schema(db.pool);
      const userId = await insertV022User(db.pool, 'owner-of-broken-data', 'Owner');
      ({ spaceId, rootId } = await insertV022Space(db.pool, userId, 'Broken'));
      await insertV022Session(db.pool, spaceId, rootId, 'healthy');
    });

    afterAll(async () => {
      await db?.drop();
    });

    it('points plain `stello migrate` at the upgrade and changes nothing', async () => {
      const before = await snapshot(db.pool);
      const run = await cli(['migrate'], db.url);
      expect(run.code).toBe(1);
      expect(run.stderr.join('\n')).toContain('stello migrate --from-v0.2.2');
      expect(await snapshot(db.pool)).toEqual(before);
    });

    it('refuses two roots in a space, listing them, and changes nothing', async () => {
      // The original fork() put its child with putSession, which left it parentless.
      const stray = await insertV022Session(db.pool, spaceId, null, 'stray fork');
      const before = await snapshot(db.pool);
      const run = await cli(['migrate', '--from-v0.2.2'], db.url);
      expect(run.code).toBe(1);
      const err = run.stderr.join('\n');
      expect(err).toContain('UPGRADE_REFUSED');
      expect(err).toContain(`space ${spaceId} has 2 root sessions`);
      expect(err).toContain(rootId);
      expect(err).toContain(stray);
      expect(await snapshot(db.pool)).toEqual(before);
      await db.pool.query('DELETE FROM sessions WHERE id = $1', [stray]);
    });

    it('refuses a parent cycle, listing its sessions, and changes nothing', async () => {
      const a = await insertV022Session(db.pool, spaceId, rootId, 'a');
      const b = await insertV022Session(db.pool, spaceId, a, 'b');
      await db.pool.query('UPDATE sessions SET parent_id = $1 WHERE id = $2', [b, a]);
      const before = await snapshot(db.pool);
      const run = await cli(['migrate', '--from-v0.2.2'], db.url);
      expect(run.code).toBe(1);
      const err = run.stderr.join('\n');
      expect(err).toContain('a parent cycle');
      expect(err).toContain(a);
      expect(err).toContain(b);
      expect(await snapshot(db.pool)).toEqual(before);
      await db.pool.query('DELETE FROM sessions WHERE id IN ($1, $2)', [a, b]);
    });

    it('rolls everything back when a row fails a constraint while copying', async () => {
      await db.pool.query(`UPDATE spaces SET label = '' WHERE id = $1`, [spaceId]);
      const before = await snapshot(db.pool);
      const run = await cli(['migrate', '--from-v0.2.2'], db.url);
      expect(run.code).toBe(1);
      expect(run.stderr.join('\n')).toContain('spaces_label_check');
      expect(await snapshot(db.pool)).toEqual(before);
      await db.pool.query(`UPDATE spaces SET label = 'Broken' WHERE id = $1`, [spaceId]);
      // With the data repaired the same database upgrades.
      expect((await cli(['migrate', '--from-v0.2.2'], db.url)).code).toBe(0);
    });
  });
});
