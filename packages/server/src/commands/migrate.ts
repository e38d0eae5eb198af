import { migrate } from '@stello-ai/db';
import {
  type CliContext,
  DATABASE_OPTIONS,
  EXIT_OK,
  parseCommandArgs,
  resolveDatabaseUrl,
  withPool,
} from './_context';

/** Help text of `stello migrate`. */
export const MIGRATE_HELP = `Usage: stello migrate [--database-url URL]

Applies the pending database migrations and exits. Safe to run while servers are up and from
several machines at once (the migrator takes a lock and keeps a ledger).

Options:
  --database-url URL   PostgreSQL connection string (default: $DATABASE_URL, else the example
                       server's embedded database, see .stello-data/database-url)
  -h, --help           show this help`;

/** `stello migrate`: applies the pending migrations. */
export async function runMigrate(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('migrate', args, DATABASE_OPTIONS);
  if (values.help) {
    ctx.stdout(MIGRATE_HELP);
    return EXIT_OK;
  }
  const url = resolveDatabaseUrl('migrate', values['database-url'], ctx);
  const applied = await withPool(url, (pool) => migrate(pool));
  if (applied.length === 0) ctx.stdout('no pending migrations: the database schema is up to date');
  else {
    ctx.stdout(`applied ${applied.length} migration${applied.length === 1 ? '' : 's'}:`);
    for (const name of applied) ctx.stdout(`  ${name}`);
    ctx.stdout('the database schema is up to date');
  }
  return EXIT_OK;
}
