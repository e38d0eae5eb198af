import { type Kysely, sql } from 'kysely';

// Frozen in time: this file never imports application code, so later schema types cannot change
// what it creates. Constraints are named explicitly because storage maps violations by name.

/** Creates users, spaces, sessions, records, session_data, session_refs and core_data. */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and must not see today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (col) => col.notNull().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('api_key_hash', 'text')
    .addColumn('api_key_prefix', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('key_created_at', 'timestamptz')
    .addColumn('key_revoked_at', 'timestamptz')
    .addPrimaryKeyConstraint('users_pkey', ['id'])
    .addUniqueConstraint('users_api_key_hash_key', ['api_key_hash'])
    .execute();

  await db.schema
    .createTable('spaces')
    .addColumn('id', 'uuid', (col) => col.notNull().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (col) => col.notNull())
    .addColumn('label', 'text', (col) => col.notNull())
    .addColumn('system_prompt', 'text')
    .addColumn('consolidate_prompt', 'text')
    .addColumn('integrate_prompt', 'text')
    .addColumn('config', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('spaces_pkey', ['id'])
    .addForeignKeyConstraint('spaces_user_id_fkey', ['user_id'], 'users', ['id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .addCheckConstraint('spaces_label_check', sql`length(label) > 0`)
    .addCheckConstraint('spaces_config_check', sql`jsonb_typeof(config) = 'object'`)
    .execute();
  // Lists a user's spaces in creation order; also serves the cascade from users.
  await db.schema
    .createIndex('spaces_user_id_created_at_idx')
    .on('spaces')
    .columns(['user_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'uuid', (col) => col.notNull().defaultTo(sql`gen_random_uuid()`))
    .addColumn('space_id', 'uuid', (col) => col.notNull())
    .addColumn('parent_id', 'uuid')
    .addColumn('label', 'text', (col) => col.notNull())
    .addColumn('role', 'text', (col) => col.notNull().defaultTo('standard'))
    .addColumn('status', 'text', (col) => col.notNull().defaultTo('active'))
    .addColumn('scope', 'text')
    .addColumn('depth', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('index', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('next_child_index', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('turn_count', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('tags', sql`text[]`, (col) => col.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('metadata', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('source_session_id', 'uuid')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_active_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('sessions_pkey', ['id'])
    // Target of the composite foreign keys that pin a row to a session of the same space.
    .addUniqueConstraint('sessions_id_space_id_key', ['id', 'space_id'])
    .addUniqueConstraint('sessions_parent_id_index_key', ['parent_id', 'index'])
    .addForeignKeyConstraint('sessions_space_id_fkey', ['space_id'], 'spaces', ['id'], (fk) =>
      fk.onDelete('cascade'),
    )
    // A parent lives in the same space; deleting a session deletes its subtree.
    .addForeignKeyConstraint(
      'sessions_parent_fkey',
      ['parent_id', 'space_id'],
      'sessions',
      ['id', 'space_id'],
      (fk) => fk.onDelete('cascade'),
    )
    .addForeignKeyConstraint(
      'sessions_source_session_id_fkey',
      ['source_session_id'],
      'sessions',
      ['id'],
      (fk) => fk.onDelete('set null'),
    )
    .addCheckConstraint('sessions_role_check', sql`role in ('main', 'standard')`)
    .addCheckConstraint('sessions_status_check', sql`status in ('active', 'archived')`)
    .addCheckConstraint('sessions_depth_check', sql`depth >= 0`)
    .addCheckConstraint('sessions_index_check', sql`"index" >= 0`)
    .addCheckConstraint('sessions_next_child_index_check', sql`next_child_index >= 0`)
    .addCheckConstraint('sessions_turn_count_check', sql`turn_count >= 0`)
    .addCheckConstraint('sessions_role_parent_check', sql`(role = 'main') = (parent_id is null)`)
    .addCheckConstraint('sessions_root_depth_check', sql`(parent_id is null) = (depth = 0)`)
    .addCheckConstraint('sessions_metadata_check', sql`jsonb_typeof(metadata) = 'object'`)
    .execute();
  // A space's tree has exactly one root.
  await db.schema
    .createIndex('sessions_one_root_per_space_idx')
    .on('sessions')
    .column('space_id')
    .unique()
    .where(sql.ref('parent_id'), 'is', null)
    .execute();
  // Loads a whole tree in display order; also serves the cascade from spaces.
  await db.schema
    .createIndex('sessions_space_id_depth_index_idx')
    .on('sessions')
    .columns(['space_id', 'depth', 'index'])
    .execute();
  // Deleting a session sets source_session_id to NULL in its forks; without this, a full scan.
  await db.schema
    .createIndex('sessions_source_session_id_idx')
    .on('sessions')
    .column('source_session_id')
    .where(sql.ref('source_session_id'), 'is not', null)
    .execute();

  await db.schema
    .createTable('records')
    .addColumn('id', 'bigint', (col) => col.notNull().generatedAlwaysAsIdentity())
    .addColumn('space_id', 'uuid', (col) => col.notNull())
    .addColumn('session_id', 'uuid', (col) => col.notNull())
    .addColumn('role', 'text', (col) => col.notNull())
    .addColumn('content', 'text', (col) => col.notNull().defaultTo(''))
    .addColumn('tool_calls', 'jsonb')
    .addColumn('tool_call_id', 'text')
    .addColumn('metadata', 'jsonb')
    .addColumn('timestamp', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('records_pkey', ['id'])
    .addForeignKeyConstraint(
      'records_session_fkey',
      ['session_id', 'space_id'],
      'sessions',
      ['id', 'space_id'],
      (fk) => fk.onDelete('cascade'),
    )
    .addCheckConstraint('records_role_check', sql`role in ('system', 'user', 'assistant', 'tool')`)
    .addCheckConstraint(
      'records_tool_calls_check',
      sql`tool_calls is null or jsonb_typeof(tool_calls) = 'array'`,
    )
    .execute();
  // A session's records in order: newest N (backward scan), pages after an id, cascades.
  await db.schema
    .createIndex('records_session_id_id_idx')
    .on('records')
    .columns(['session_id', 'id'])
    .execute();

  await db.schema
    .createTable('session_data')
    .addColumn('space_id', 'uuid', (col) => col.notNull())
    .addColumn('session_id', 'uuid', (col) => col.notNull())
    .addColumn('key', 'text', (col) => col.notNull())
    .addColumn('content', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('session_data_pkey', ['session_id', 'key'])
    .addForeignKeyConstraint(
      'session_data_session_fkey',
      ['session_id', 'space_id'],
      'sessions',
      ['id', 'space_id'],
      (fk) => fk.onDelete('cascade'),
    )
    .addCheckConstraint(
      'session_data_key_check',
      sql`key in ('system_prompt', 'memory', 'insight', 'consolidate_prompt', 'integrate_prompt', 'scope', 'index')`,
    )
    .execute();

  await db.schema
    .createTable('session_refs')
    .addColumn('space_id', 'uuid', (col) => col.notNull())
    .addColumn('from_id', 'uuid', (col) => col.notNull())
    .addColumn('to_id', 'uuid', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('session_refs_pkey', ['from_id', 'to_id'])
    .addForeignKeyConstraint(
      'session_refs_from_fkey',
      ['from_id', 'space_id'],
      'sessions',
      ['id', 'space_id'],
      (fk) => fk.onDelete('cascade'),
    )
    .addForeignKeyConstraint(
      'session_refs_to_fkey',
      ['to_id', 'space_id'],
      'sessions',
      ['id', 'space_id'],
      (fk) => fk.onDelete('cascade'),
    )
    .addCheckConstraint('session_refs_not_self_check', sql`from_id <> to_id`)
    .execute();
  // Refs pointing at a session; also serves the cascade when that session is deleted.
  await db.schema.createIndex('session_refs_to_id_idx').on('session_refs').column('to_id').execute();

  await db.schema
    .createTable('core_data')
    .addColumn('space_id', 'uuid', (col) => col.notNull())
    .addColumn('path', 'text', (col) => col.notNull())
    .addColumn('value', 'jsonb')
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('core_data_pkey', ['space_id', 'path'])
    .addForeignKeyConstraint('core_data_space_id_fkey', ['space_id'], 'spaces', ['id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .execute();
}

/** Drops every table `up` created, dependants first. */
// biome-ignore lint/suspicious/noExplicitAny: see up
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'core_data',
    'session_refs',
    'session_data',
    'records',
    'sessions',
    'spaces',
    'users',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
