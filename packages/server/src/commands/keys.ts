import { UserStore } from '@stello-ai/runtime';
import { PgStores } from '@stello-ai/storage';
import {
  type CliContext,
  CliFailure,
  CliUsageError,
  DATABASE_OPTIONS,
  EXIT_OK,
  parseCommandArgs,
  printNewApiKey,
  resolveDatabaseUrl,
  runSubcommand,
  withPool,
} from './_context';

/** Help text of `stello keys`. */
export const KEYS_HELP = `Usage: stello keys <issue|revoke> [options]

Commands:
  issue <userId>               issue a new API key for a user and print it once; the old key stops working
  revoke <userId|keyPrefix>    revoke a user's key (by user id or by the prefix \`users list\` shows)

Options:
  --database-url URL   PostgreSQL connection string (default: $DATABASE_URL)
  -h, --help           show this help

Running servers drop the key at once: the revocation is announced to them at commit (their
control channel); a server without one accepts it for up to 30 s (its cache).`;

const KEYS_ISSUE_HELP = `Usage: stello keys issue <userId> [--json] [--database-url URL]

Issues a new API key for the user and prints it once; the user's previous key stops working.

Options:
  --json               print {"userId","apiKey"} as JSON
  --database-url URL   PostgreSQL connection string (default: $DATABASE_URL)
  -h, --help           show this help`;

const KEYS_REVOKE_HELP = `Usage: stello keys revoke <userId|keyPrefix> [--database-url URL]

Revokes the key of a user, named by user id or by key prefix (as \`stello users list\` shows).
Exits with 1 when nothing matches.

Options:
  --database-url URL   PostgreSQL connection string (default: $DATABASE_URL)
  -h, --help           show this help`;

function onePositional(command: string, positionals: string[], what: string): string {
  const [value, ...extra] = positionals;
  if (value === undefined || value.trim() === '') throw new CliUsageError(`missing ${what}`, command);
  if (extra.length > 0) throw new CliUsageError(`unexpected argument "${extra[0]}"`, command);
  return value.trim();
}

async function issueKey(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'keys issue',
    args,
    { ...DATABASE_OPTIONS, json: { type: 'boolean' } },
    true,
  );
  if (values.help) {
    ctx.stdout(KEYS_ISSUE_HELP);
    return EXIT_OK;
  }
  const userId = onePositional('keys issue', positionals, '<userId>');
  const url = resolveDatabaseUrl('keys issue', values['database-url'], ctx);
  const apiKey = await withPool(url, (pool) => new UserStore(new PgStores(pool).users).issueKey(userId));
  if (values.json) {
    ctx.stdout(JSON.stringify({ userId, apiKey }));
  } else {
    ctx.stdout(`issued a new key for user ${userId}; the previous key no longer works`);
    printNewApiKey(ctx, apiKey);
  }
  return EXIT_OK;
}

async function revokeKey(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('keys revoke', args, DATABASE_OPTIONS, true);
  if (values.help) {
    ctx.stdout(KEYS_REVOKE_HELP);
    return EXIT_OK;
  }
  const target = onePositional('keys revoke', positionals, '<userId|keyPrefix>');
  const url = resolveDatabaseUrl('keys revoke', values['database-url'], ctx);
  const revoked = await withPool(url, (pool) => new UserStore(new PgStores(pool).users).revokeKey(target));
  if (!revoked) throw new CliFailure(`no active key matches "${target}"`);
  ctx.stdout(`revoked the key of ${target}`);
  return EXIT_OK;
}

/** `stello keys issue|revoke`. */
export async function runKeys(args: string[], ctx: CliContext): Promise<number> {
  return runSubcommand('keys', args, ctx, KEYS_HELP, { issue: issueKey, revoke: revokeKey });
}
