import { isCodedError } from '@stello-ai/session';
import packageJson from '../../package.json' with { type: 'json' };
import { type CliContext, CliFailure, CliUsageError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './_context';
import { KEYS_HELP, runKeys } from './keys';
import { MIGRATE_HELP, runMigrate } from './migrate';
import { runServe, SERVE_HELP } from './serve';
import { runSpaces, SPACES_HELP } from './spaces';
import { runUsers, USERS_HELP } from './users';

/** Help text of `stello` as a whole. */
export const CLI_HELP = `Usage: stello <command> [options]

Commands:
  serve                         run the REST + WebSocket server (migrates first)
  migrate                       apply pending database migrations
  users create --name NAME      create a user and print its API key once
  users list                    list users and their key prefixes
  keys issue <userId>           issue a new key for a user (replaces the old one)
  keys revoke <userId|prefix>   revoke a user's key
  spaces export <spaceId>       write a subtree (default: the whole tree) as JSON
  spaces import <spaceId> FILE  copy an exported subtree into a space (new ids)
  keys limits <userId|prefix>   show or set a key's rate limits (--turns-per-minute N, --streams N)

Options:
  -h, --help       show help (also: stello <command> --help)
  -v, --version    print the version

Environment:
  DATABASE_URL     PostgreSQL connection string (or --database-url)
  PORT, HOST       where \`serve\` listens (default 3000, 127.0.0.1)
  STELLO_API_KEY   \`serve\` makes sure a user with this key exists
  ANTHROPIC_API_KEY, OPENAI_API_KEY, OPENAI_BASE_URL, STELLO_MODEL
                   the chat model; with none set, \`serve\` uses the offline model

Exit codes: 0 success, 1 failure, 2 bad command line.`;

const COMMANDS: Record<string, { run: (args: string[], ctx: CliContext) => Promise<number>; help: string }> =
  {
    serve: { run: runServe, help: SERVE_HELP },
    migrate: { run: runMigrate, help: MIGRATE_HELP },
    users: { run: runUsers, help: USERS_HELP },
    keys: { run: runKeys, help: KEYS_HELP },
    spaces: { run: runSpaces, help: SPACES_HELP },
  };

// SQLSTATE 42P01 undefined_table: the schema was never migrated.
const UNDEFINED_TABLE = '42P01';
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  '28P01',
  '3D000',
]);

function describeFailure(error: unknown): string {
  if (error instanceof CliFailure) return error.message;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === UNDEFINED_TABLE) return 'the database has no Stello schema yet: run `stello migrate` first';
  if (typeof code === 'string' && CONNECTION_CODES.has(code))
    return `cannot use the database: ${message} (${code})`;
  if (error instanceof AggregateError && error.errors.length > 0) return describeFailure(error.errors[0]);
  if (isCodedError(error, 'PORT_IN_USE')) return message;
  if (isCodedError(error)) return `${message} (${error.code})`;
  return message;
}

/**
 * Runs the `stello` command line `argv` (without `node` and the script) and resolves to its exit
 * code. Output goes through `ctx`, so tests can run it in process.
 */
export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined) {
    ctx.stderr(CLI_HELP);
    return EXIT_USAGE;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    const topic = args[0] === undefined ? undefined : COMMANDS[args[0]];
    ctx.stdout(topic?.help ?? CLI_HELP);
    return EXIT_OK;
  }
  if (command === '--version' || command === '-v') {
    ctx.stdout(packageJson.version);
    return EXIT_OK;
  }
  const entry = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  try {
    if (entry === undefined) throw new CliUsageError(`unknown command "${command}"`);
    return await entry.run(args, ctx);
  } catch (error) {
    if (error instanceof CliUsageError) {
      ctx.stderr(`stello: ${error.message}`);
      ctx.stderr(`run \`stello ${error.command === undefined ? '' : `${error.command} `}--help\` for usage`);
      return EXIT_USAGE;
    }
    ctx.stderr(`stello: error: ${describeFailure(error)}`);
    return EXIT_FAILURE;
  }
}
