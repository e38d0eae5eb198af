import { migrate, upgradeFromV022, type V022UpgradeReport } from '@stello-ai/db';
import {
  type CliContext,
  DATABASE_OPTIONS,
  EXIT_OK,
  parseCommandArgs,
  resolveDatabaseUrl,
  withPool,
} from './_context';

/** Help text of `stello migrate`. */
export const MIGRATE_HELP = `Usage: stello migrate [--database-url URL] [--from-v0.2.2]

Applies the pending database migrations and exits. Safe to run while servers are up and from
several machines at once (the migrator takes a lock and keeps a ledger).

Options:
  --database-url URL   PostgreSQL connection string (default: $DATABASE_URL, else the example
                       server's embedded database, see .stello-data/database-url)
  --from-v0.2.2        upgrade a database of the original @stello-ai/server v0.2.2, once, in one
                       transaction: API keys become hashes (the keys keep working), the new
                       columns and constraints, recomputed depths and sibling indexes. It refuses,
                       listing the rows and changing nothing, when the old data breaks an
                       invariant (two roots in a space, a parent cycle…). Stop the old server first.
  -h, --help           show this help`;

const MIGRATE_OPTIONS = { ...DATABASE_OPTIONS, 'from-v0.2.2': { type: 'boolean' } } as const;

/** `stello migrate`: applies the pending migrations, or upgrades a v0.2.2 database. */
export async function runMigrate(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('migrate', args, MIGRATE_OPTIONS);
  if (values.help) {
    ctx.stdout(MIGRATE_HELP);
    return EXIT_OK;
  }
  const url = resolveDatabaseUrl('migrate', values['database-url'], ctx);
  if (values['from-v0.2.2']) {
    const report = await withPool(url, (pool) => upgradeFromV022(pool));
    printUpgrade(report, ctx);
    return EXIT_OK;
  }
  const applied = await withPool(url, (pool) => migrate(pool));
  if (applied.length === 0) ctx.stdout('no pending migrations: the database schema is up to date');
  else {
    ctx.stdout(`applied ${applied.length} migration${applied.length === 1 ? '' : 's'}:`);
    for (const name of applied) ctx.stdout(`  ${name}`);
    ctx.stdout('the database schema is up to date');
  }
  return EXIT_OK;
}

/** Counts and user ids only: never a key, a hash or a prefix. */
function printUpgrade(report: V022UpgradeReport, ctx: CliContext): void {
  ctx.stdout('upgraded the v0.2.2 database in one transaction:');
  ctx.stdout(`  ${report.users} users (API keys now stored as SHA-256 hashes; the same keys authenticate)`);
  ctx.stdout(`  ${report.spaces} spaces, ${report.sessions} sessions, ${report.records} records`);
  ctx.stdout(`  ${report.slots} session slots, ${report.refs} refs, ${report.globals} space-wide values`);
  ctx.stdout(
    `  recomputed ${report.redepthedSessions} depths and ${report.reindexedSessions} sibling indexes; ` +
      `${report.provenanceFromMetadata} fork provenances taken from metadata.sourceSessionId`,
  );
  if (report.droppedRefs > 0)
    ctx.stdout(`  dropped ${report.droppedRefs} refs across spaces or to themselves`);
  ctx.stdout(`  applied ${report.migrations.length} migrations: ${report.migrations.join(', ')}`);
  if (report.usersWithUnusableKeys.length > 0) {
    ctx.stderr(
      `warning: ${report.usersWithUnusableKeys.length} users have a key that cannot authenticate (under 8 or over 512 characters, or with whitespace); issue new ones with \`stello keys issue <userId>\`:`,
    );
    for (const id of report.usersWithUnusableKeys) ctx.stderr(`  ${id}`);
  }
}
