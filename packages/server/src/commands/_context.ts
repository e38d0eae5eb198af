import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { createPool } from '@stello-ai/db';
import type pg from 'pg';

/** Exit code of a successful command. */
export const EXIT_OK = 0;
/** Exit code of a command that failed (database unreachable, unknown user…). */
export const EXIT_FAILURE = 1;
/** Exit code of a command line that cannot be understood (unknown flag, missing argument). */
export const EXIT_USAGE = 2;

/** Where a command reads its configuration and writes its output; `cli.ts` binds it to the process. */
export interface CliContext {
  /** Environment variables (`DATABASE_URL`, `PORT`, …). */
  env: Record<string, string | undefined>;
  /** Writes one line of normal output (no trailing newline needed). */
  stdout: (line: string) => void;
  /** Writes one line of diagnostics. */
  stderr: (line: string) => void;
  /** Directory the relative `.stello-data` is found in (default: the process's working directory). */
  cwd?: string;
  /** Aborted when the process should shut down (SIGINT/SIGTERM); long-running commands stop then. */
  signal?: AbortSignal;
}

/** A command line that cannot be understood; printed with a hint to `--help`, exit code 2. */
export class CliUsageError extends Error {
  readonly code = 'CLI_USAGE';
  constructor(
    message: string,
    /** The command whose help the hint names, e.g. `users create`. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/** A command that failed for a reason the user can act on; printed without a stack, exit code 1. */
export class CliFailure extends Error {
  readonly code = 'CLI_FAILURE';
  constructor(message: string) {
    super(message);
    this.name = 'CliFailure';
  }
}

/** Options shared by every command that opens the database. */
export const DATABASE_OPTIONS = {
  'database-url': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** `parseArgs` with strict flags, turning its errors into {@link CliUsageError}s of `command`. */
export function parseCommandArgs<TOptions extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  args: string[],
  options: TOptions,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error), command);
  }
}

/** File in the example server's data directory holding its embedded database's URL. */
export const DATABASE_URL_FILE = 'database-url';
/** Where `pnpm start` keeps its embedded cluster unless `STELLO_PG_PORT` moves it. */
const EXAMPLE_DATABASE_URL = 'postgresql://stello:stello@127.0.0.1:54329/stello';

/** The example server's data directory: `STELLO_DATA_DIR`, else `.stello-data` in the working directory. */
function exampleDataDir(ctx: CliContext): string {
  const configured = ctx.env.STELLO_DATA_DIR?.trim();
  return configured || join(ctx.cwd ?? process.cwd(), '.stello-data');
}

/**
 * The database URL from `--database-url`, else `DATABASE_URL`, else the URL the example server
 * (`pnpm start`) wrote next to its embedded database. Without any, the error names the exact
 * `DATABASE_URL` of the example's default embedded database.
 */
export function resolveDatabaseUrl(command: string, flag: string | undefined, ctx: CliContext): string {
  const url = flag ?? ctx.env.DATABASE_URL;
  if (url !== undefined && url.trim() !== '') return url;
  const file = join(exampleDataDir(ctx), DATABASE_URL_FILE);
  let written = '';
  try {
    written = readFileSync(file, 'utf8').trim();
  } catch {
    // No example database here: the error below says what to set.
  }
  if (written !== '') return written;
  throw new CliUsageError(
    `no database: pass --database-url or set DATABASE_URL (none found in ${file}). For the example server of \`pnpm start\` on its default port, run:\n  DATABASE_URL=${EXAMPLE_DATABASE_URL} pnpm stello ${command} ...`,
    command,
  );
}

/** Runs `fn` with a pool on `url` and always ends the pool afterwards. */
export async function withPool<T>(url: string, fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = createPool({ connectionString: url, max: 2 });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

/** Runs one subcommand of a CLI command: given its arguments after the subcommand name. */
export type CliSubcommand = (args: string[], ctx: CliContext) => Promise<number>;

/**
 * Dispatches `stello <command> <subcommand> …` to `subcommands`. With no subcommand it prints
 * `help` to stderr (exit code 2); `help`, `-h` and `--help` print it to stdout (exit code 0).
 * @throws CliUsageError for an unknown subcommand
 */
export async function runSubcommand(
  command: string,
  args: string[],
  ctx: CliContext,
  help: string,
  subcommands: Readonly<Record<string, CliSubcommand>>,
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined) {
    ctx.stderr(help);
    return EXIT_USAGE;
  }
  const run = Object.hasOwn(subcommands, sub) ? subcommands[sub] : undefined;
  if (run) return run(rest, ctx);
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    ctx.stdout(help);
    return EXIT_OK;
  }
  throw new CliUsageError(`unknown ${command} command "${sub}"`, command);
}

/** Prints a newly issued API key with the warning that it is shown only this once. */
export function printNewApiKey(ctx: CliContext, apiKey: string): void {
  ctx.stdout('API key (shown once; only its hash is stored, so copy it now):');
  ctx.stdout(apiKey);
}
