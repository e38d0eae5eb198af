import { UserStore } from '@stello-ai/runtime';
import { PgStores } from '@stello-ai/storage';
import {
  type CliContext,
  CliUsageError,
  DATABASE_OPTIONS,
  EXIT_OK,
  parseCommandArgs,
  printNewApiKey,
  resolveDatabaseUrl,
  runSubcommand,
  withPool,
} from './_context';

/** Help text of `stello users`. */
export const USERS_HELP = `Usage: stello users <create|list> [options]

Commands:
  create --name NAME   create a user and print its API key (shown once, stored only as a hash)
  list                 list users with their key prefix and key status

Options:
  --database-url URL   PostgreSQL connection string (default: $DATABASE_URL)
  --json               print JSON instead of text
  -h, --help           show this help`;

const USERS_CREATE_HELP = `Usage: stello users create --name NAME [--json] [--database-url URL]

Creates a user and prints its new API key once. Only a hash of the key is stored: copy it now.

Options:
  --name NAME          display name of the user (required)
  --json               print {"id","name","apiKey"} as JSON
  --database-url URL   PostgreSQL connection string (default: $DATABASE_URL)
  -h, --help           show this help`;

const USERS_LIST_HELP = `Usage: stello users list [--json] [--database-url URL]

Lists users with the display prefix of their key (never the key) and whether it is active.

Options:
  --json               print a JSON array
  --database-url URL   PostgreSQL connection string (default: $DATABASE_URL)
  -h, --help           show this help`;

function timestamp(value: unknown): string {
  if (value === null || value === undefined) return '';
  return value instanceof Date ? value.toISOString() : String(value);
}

async function createUser(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('users create', args, {
    ...DATABASE_OPTIONS,
    name: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    ctx.stdout(USERS_CREATE_HELP);
    return EXIT_OK;
  }
  const name = values.name?.trim();
  if (name === undefined || name === '') throw new CliUsageError('--name is required', 'users create');
  const url = resolveDatabaseUrl('users create', values['database-url'], ctx);
  const { user, apiKey } = await withPool(url, (pool) =>
    new UserStore(new PgStores(pool).users).createUser(name),
  );
  if (values.json) {
    ctx.stdout(JSON.stringify({ id: user.id, name: user.name, apiKey }));
  } else {
    ctx.stdout(`created user ${user.id} (${user.name})`);
    printNewApiKey(ctx, apiKey);
  }
  return EXIT_OK;
}

async function listUsers(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('users list', args, { ...DATABASE_OPTIONS, json: { type: 'boolean' } });
  if (values.help) {
    ctx.stdout(USERS_LIST_HELP);
    return EXIT_OK;
  }
  const url = resolveDatabaseUrl('users list', values['database-url'], ctx);
  const users = await withPool(url, (pool) => new UserStore(new PgStores(pool).users).listUsers());
  const rows = users.map((user) => ({
    id: user.id,
    name: user.name,
    keyPrefix: user.keyPrefix,
    keyStatus: user.keyPrefix === null ? 'none' : user.keyRevokedAt ? 'revoked' : 'active',
    createdAt: timestamp(user.createdAt),
  }));
  if (values.json) {
    ctx.stdout(JSON.stringify(rows));
    return EXIT_OK;
  }
  if (rows.length === 0) {
    ctx.stdout('no users yet: create one with `stello users create --name NAME`');
    return EXIT_OK;
  }
  const table = [
    ['ID', 'NAME', 'KEY PREFIX', 'KEY', 'CREATED'],
    ...rows.map((row) => [row.id, row.name, row.keyPrefix ?? '-', row.keyStatus, row.createdAt]),
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((cells) => cells[column]!.length)));
  for (const cells of table) {
    ctx.stdout(
      cells
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    );
  }
  return EXIT_OK;
}

/** `stello users create|list`. */
export async function runUsers(args: string[], ctx: CliContext): Promise<number> {
  return runSubcommand('users', args, ctx, USERS_HELP, { create: createUser, list: listUsers });
}
