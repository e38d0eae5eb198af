import { randomBytes } from 'node:crypto';
import { createPool, migrate } from '@stello-ai/db';
import type { TestProject } from 'vitest/node';
import { databaseUrl, dropDatabase, listDatabases, quoteIdent, withAdminClient } from './admin-client';
import { templateDatabaseName, testDatabasePrefix } from './database-names';
import { TEST_POSTGRES_KEY } from './provided-context';
import { startPostgres } from './start-postgres';

/**
 * Vitest global setup: finds or starts PostgreSQL once per run and migrates a template database.
 *
 * The server comes from `startPostgres` (env URL, testcontainers, or embedded). The template
 * `stello_tpl_<runId>` is migrated with `migrate()` from `@stello-ai/db` and then closed to
 * connections, so cloning it never fails on a stray session. Workers receive `TestPostgres`
 * through `inject('stelloTestPostgres')`. The returned teardown drops every database of this run
 * (never another run's, which may share the server) and stops what was started.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres();
  const runId = randomBytes(4).toString('hex');
  const templateDb = templateDatabaseName(runId);
  const teardown = async () => {
    try {
      await withAdminClient(server.adminUrl, async (client) => {
        for (const name of await listDatabases(client, testDatabasePrefix(runId)))
          await dropDatabase(client, name);
        await dropDatabase(client, templateDb);
      });
    } finally {
      await server.stop();
    }
  };
  try {
    await createTemplate(server.adminUrl, templateDb);
  } catch (error) {
    await teardown().catch(() => {});
    throw error;
  }
  project.provide(TEST_POSTGRES_KEY, { adminUrl: server.adminUrl, templateDb, runId, source: server.source });
  return teardown;
}

async function createTemplate(adminUrl: string, templateDb: string): Promise<void> {
  await withAdminClient(adminUrl, (client) => client.query(`CREATE DATABASE ${quoteIdent(templateDb)}`));
  const pool = createPool({ connectionString: databaseUrl(adminUrl, templateDb), max: 2 });
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  // CREATE DATABASE ... TEMPLATE fails while anyone is connected to the template.
  await withAdminClient(adminUrl, (client) =>
    client.query(`ALTER DATABASE ${quoteIdent(templateDb)} WITH ALLOW_CONNECTIONS false`),
  );
}
