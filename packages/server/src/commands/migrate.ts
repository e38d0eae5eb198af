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
  --database-url URL   PostgreSQL connection string (default: $DATABASE_URL)
  -h, --help           show this help`;

/** `stello migrate`: applies the pending migrations. */
export async function runMigrate(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('migrate', args, DATABASE_OPTIONS);
  if (values.help) {
    ctx.stdout(MIGRATE_HELP);
    return EXIT_OK;
  }
  const url = resolveDatabaseUrl('migrate', values['database-url'], ctx);
  await withPool(url, (pool) => migrate(pool));
  ctx.stdout('the database schema is up to date');
  return EXIT_OK;
}
