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
export const KEYS_HELP = `Usage: stello keys <issue|revoke|limits> [options]

Commands:
  issue <userId>               issue a new API key for a user and print it once; the old key stops working
  revoke <userId|keyPrefix>    revoke a user's key (by user id or by the prefix \`users list\` shows)
  limits <userId|keyPrefix>    show or set a key's rate limits (--turns-per-minute N, --streams N)

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

const KEYS_LIMITS_HELP = `Usage: stello keys limits <userId|keyPrefix> [--turns-per-minute N] [--streams N] [--json]

Shows a key's rate limits, or sets them. A value is a whole number; 0 means no limit for this
key, and "default" goes back to the server's default (STELLO_TURNS_PER_MINUTE,
STELLO_STREAMS_PER_KEY). Running servers apply a change within a few seconds; over a limit a
turn gets 429 RATE_LIMITED with Retry-After.

Options:
  --turns-per-minute N   turns the key may start per minute, across all servers
  --streams N            streams (REST SSE and WebSocket) the key may run at once
  --json                 print {"userId","turnsPerMinute","streams"} as JSON (null: server default)
  --database-url URL     PostgreSQL connection string (default: $DATABASE_URL)
  -h, --help             show this help`;

/** A limit given on the command line: a whole number, or \`default\` (null). */
function parseLimit(flag: string, raw: string | undefined): number | null | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim().toLowerCase();
  if (value === 'default') return null;
  if (!/^\d{1,9}$/.test(value)) {
    throw new CliUsageError(
      `invalid --${flag} "${raw}": expected a whole number or "default"`,
      'keys limits',
    );
  }
  return Number(value);
}

function showLimit(value: number | null, unit: string): string {
  if (value === null) return 'server default';
  return value === 0 ? 'no limit' : `${value} ${unit}`;
}

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

async function keyLimits(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'keys limits',
    args,
    {
      ...DATABASE_OPTIONS,
      'turns-per-minute': { type: 'string' },
      streams: { type: 'string' },
      json: { type: 'boolean' },
    },
    true,
  );
  if (values.help) {
    ctx.stdout(KEYS_LIMITS_HELP);
    return EXIT_OK;
  }
  const target = onePositional('keys limits', positionals, '<userId|keyPrefix>');
  const turnsPerMinute = parseLimit('turns-per-minute', values['turns-per-minute']);
  const concurrentStreams = parseLimit('streams', values.streams);
  const url = resolveDatabaseUrl('keys limits', values['database-url'], ctx);
  const limits = await withPool(url, async (pool) => {
    const stores = new PgStores(pool);
    const userId = await new UserStore(stores.users).resolveKeyOwner(target);
    if (userId === null) return null;
    return stores.rateLimits.setKeyLimits(userId, {
      ...(turnsPerMinute !== undefined && { turnsPerMinute }),
      ...(concurrentStreams !== undefined && { concurrentStreams }),
    });
  });
  if (limits === null) throw new CliFailure(`no user or active key matches "${target}"`);
  if (values.json) {
    ctx.stdout(
      JSON.stringify({
        userId: limits.keyId,
        turnsPerMinute: limits.turnsPerMinute,
        streams: limits.concurrentStreams,
      }),
    );
  } else {
    ctx.stdout(`limits of user ${limits.keyId}:`);
    ctx.stdout(`  turns per minute: ${showLimit(limits.turnsPerMinute, 'per minute')}`);
    ctx.stdout(`  streams at once:  ${showLimit(limits.concurrentStreams, 'at once')}`);
  }
  return EXIT_OK;
}

/** `stello keys issue|revoke|limits`. */
export async function runKeys(args: string[], ctx: CliContext): Promise<number> {
  return runSubcommand('keys', args, ctx, KEYS_HELP, {
    issue: issueKey,
    revoke: revokeKey,
    limits: keyLimits,
  });
}
