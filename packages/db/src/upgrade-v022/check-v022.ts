import { type Kysely, sql } from 'kysely';

/** One way the old data breaks an invariant of the new schema, with the rows that do. */
export interface V022Offense {
  kind: 'roots' | 'cycle' | 'foreign-parent' | 'role' | 'value';
  spaceId: string;
  /** The offending sessions (for `roots`: the space's parentless sessions, none when it has no root). */
  sessionIds: string[];
  /** One human line naming the rows and what is wrong. */
  message: string;
}

/**
 * Finds every row of a v0.2.2 database that the new schema cannot hold as it is: a space with
 * two roots (the original's `putSession` and `removeNode` made parentless rows) or none, a parent
 * cycle (sessions no root reaches), a parent in another space, a role that does not match the
 * node's place, a role or status outside the known values. Reads only.
 */
// biome-ignore lint/suspicious/noExplicitAny: runs before today's schema exists
export async function findV022Offenses(db: Kysely<any>): Promise<V022Offense[]> {
  const offenses: V022Offense[] = [];

  const roots = await sql<{ space_id: string; roots: string[] }>`
    SELECT sp.id::text AS space_id,
           coalesce(array_agg(s.id::text ORDER BY s.created_at, s.id) FILTER (WHERE s.id IS NOT NULL), '{}') AS roots
    FROM spaces sp LEFT JOIN sessions s ON s.space_id = sp.id AND s.parent_id IS NULL
    GROUP BY sp.id HAVING count(s.id) <> 1
    ORDER BY sp.id`.execute(db);
  for (const row of roots.rows) {
    offenses.push({
      kind: 'roots',
      spaceId: row.space_id,
      sessionIds: row.roots,
      message:
        row.roots.length === 0
          ? `space ${row.space_id} has no root session`
          : `space ${row.space_id} has ${row.roots.length} root sessions (parent_id IS NULL): ${row.roots.join(', ')}`,
    });
  }

  const foreign = await sql<{ id: string; space_id: string; parent_id: string }>`
    SELECT c.id::text, c.space_id::text, c.parent_id::text
    FROM sessions c JOIN sessions p ON p.id = c.parent_id
    WHERE p.space_id <> c.space_id ORDER BY c.space_id, c.id`.execute(db);
  for (const row of foreign.rows) {
    offenses.push({
      kind: 'foreign-parent',
      spaceId: row.space_id,
      sessionIds: [row.id],
      message: `session ${row.id} of space ${row.space_id} has a parent in another space (${row.parent_id})`,
    });
  }

  // From the roots down, within each space; whatever is not reached hangs on a parent cycle.
  const unreached = await sql<{ space_id: string; ids: string[] }>`
    WITH RECURSIVE reach(id, space_id) AS (
      SELECT id, space_id FROM sessions WHERE parent_id IS NULL
      UNION
      SELECT c.id, c.space_id FROM sessions c JOIN reach r ON c.parent_id = r.id AND c.space_id = r.space_id
    )
    SELECT s.space_id::text, array_agg(s.id::text ORDER BY s.id) AS ids
    FROM sessions s
    WHERE NOT EXISTS (SELECT 1 FROM reach r WHERE r.id = s.id)
      AND NOT EXISTS (SELECT 1 FROM sessions p WHERE p.id = s.parent_id AND p.space_id <> s.space_id)
    GROUP BY s.space_id ORDER BY s.space_id`.execute(db);
  for (const row of unreached.rows) {
    offenses.push({
      kind: 'cycle',
      spaceId: row.space_id,
      sessionIds: row.ids,
      message: `space ${row.space_id}: sessions no root reaches (a parent cycle): ${row.ids.join(', ')}`,
    });
  }

  const values = await sql<{ id: string; space_id: string; role: string; status: string; root: boolean }>`
    SELECT id::text, space_id::text, role, status, parent_id IS NULL AS root FROM sessions
    WHERE role NOT IN ('main', 'standard') OR status NOT IN ('active', 'archived')
       OR (role = 'main') <> (parent_id IS NULL)
    ORDER BY space_id, id`.execute(db);
  for (const row of values.rows) {
    const known = ['main', 'standard'].includes(row.role) && ['active', 'archived'].includes(row.status);
    offenses.push({
      kind: known ? 'role' : 'value',
      spaceId: row.space_id,
      sessionIds: [row.id],
      message: known
        ? `session ${row.id} of space ${row.space_id} has role '${row.role}' but is ${row.root ? 'a root' : 'not a root'} (the root is 'main', every other session 'standard')`
        : `session ${row.id} of space ${row.space_id} has role '${row.role}' and status '${row.status}' (known: main/standard, active/archived)`,
    });
  }
  return offenses;
}
