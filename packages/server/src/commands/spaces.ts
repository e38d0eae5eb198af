import { readFile, writeFile } from 'node:fs/promises';
import { isUuid, PgStores, PgSubtreeStore, type SubtreeLimits } from '@stello-ai/storage';
import type pg from 'pg';
import {
  type CliContext,
  CliFailure,
  CliUsageError,
  DATABASE_OPTIONS,
  EXIT_OK,
  parseCommandArgs,
  resolveDatabaseUrl,
  runSubcommand,
  withPool,
} from './_context';

/** Help text of `stello spaces`. */
export const SPACES_HELP = `Usage: stello spaces <export|import> [options]

Commands:
  export <spaceId> [--session ID] [--out FILE]   write a subtree as a stello.subtree JSON document
  import <spaceId> [--parent ID] <FILE>          copy a document's subtree into a space (new ids)

Options:
  --database-url URL   PostgreSQL connection string (default: $DATABASE_URL)
  -h, --help           show this help`;

const LIMIT_OPTIONS = {
  'max-sessions': { type: 'string' },
  'max-records': { type: 'string' },
  'max-bytes': { type: 'string' },
} as const;

const LIMITS_HELP = `  --max-sessions N     most sessions (default 1000)
  --max-records N      most records (default 50000)
  --max-bytes N        most bytes (default 67108864)`;

const SPACES_EXPORT_HELP = `Usage: stello spaces export <spaceId> [--session ID] [--out FILE] [--database-url URL]

Writes the subtree under a session (default: the whole tree from the space's root) as a
stello.subtree JSON document: sessions with relative ids, their slots (prompts, memory,
insight), refs and records. Read in one statement, so the document is one consistent snapshot.

Options:
  --session ID         the subtree's root session (default: the space's root)
  --out FILE           write to FILE instead of standard output
${LIMITS_HELP}
  --database-url URL   PostgreSQL connection string (default: $DATABASE_URL)
  -h, --help           show this help`;

const SPACES_IMPORT_HELP = `Usage: stello spaces import <spaceId> [--parent ID] <FILE> [--database-url URL]

Copies the subtree of a stello.subtree document (FILE, or - for standard input) into a space:
new ids, the same shape and contents. Its root becomes the next child of --parent (default: the
space's root). All or nothing: a bad document writes nothing. Prints the new root and the id map
as JSON.

Options:
  --parent ID          the session to attach the copy under (default: the space's root)
${LIMITS_HELP}
  --database-url URL   PostgreSQL connection string (default: $DATABASE_URL)
  -h, --help           show this help`;

function limitsFrom(
  command: string,
  values: Partial<Record<keyof typeof LIMIT_OPTIONS, string>>,
): SubtreeLimits {
  const limits: SubtreeLimits = {};
  const parse = (flag: keyof typeof LIMIT_OPTIONS): number | undefined => {
    const raw = values[flag];
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new CliUsageError(`--${flag} must be a positive integer`, command);
    }
    return value;
  };
  const maxSessions = parse('max-sessions');
  const maxRecords = parse('max-records');
  const maxBytes = parse('max-bytes');
  if (maxSessions !== undefined) limits.maxSessions = maxSessions;
  if (maxRecords !== undefined) limits.maxRecords = maxRecords;
  if (maxBytes !== undefined) limits.maxBytes = maxBytes;
  return limits;
}

function uuidArgument(command: string, value: string | undefined, what: string): string {
  if (value === undefined || value.trim() === '') throw new CliUsageError(`missing ${what}`, command);
  if (!isUuid(value.trim())) throw new CliUsageError(`${what} must be a UUID, got "${value}"`, command);
  return value.trim();
}

/** Fails with a plain message when the space does not exist (rather than "session root not found"). */
async function requireSpace(pool: pg.Pool, spaceId: string): Promise<PgStores> {
  const stores = new PgStores(pool);
  if (!(await stores.spaces.get(spaceId))) throw new CliFailure(`no space ${spaceId}`);
  return stores;
}

async function exportSpace(args: string[], ctx: CliContext): Promise<number> {
  const command = 'spaces export';
  const { values, positionals } = parseCommandArgs(
    command,
    args,
    { ...DATABASE_OPTIONS, ...LIMIT_OPTIONS, session: { type: 'string' }, out: { type: 'string' } },
    true,
  );
  if (values.help) {
    ctx.stdout(SPACES_EXPORT_HELP);
    return EXIT_OK;
  }
  if (positionals.length > 1) throw new CliUsageError(`unexpected argument "${positionals[1]}"`, command);
  const spaceId = uuidArgument(command, positionals[0], '<spaceId>');
  const sessionId =
    values.session === undefined ? undefined : uuidArgument(command, values.session, '--session');
  const limits = limitsFrom(command, values);
  const url = resolveDatabaseUrl(command, values['database-url'], ctx);
  const doc = await withPool(url, async (pool) => {
    const stores = await requireSpace(pool, spaceId);
    return new PgSubtreeStore(stores, spaceId, limits).exportSubtree(sessionId);
  });
  const json = JSON.stringify(doc);
  if (values.out === undefined) {
    ctx.stdout(json);
  } else {
    await writeFile(values.out, `${json}\n`, 'utf8');
    const records = doc.sessions.reduce((sum, session) => sum + session.records.length, 0);
    ctx.stderr(`exported ${doc.sessions.length} sessions and ${records} records to ${values.out}`);
  }
  return EXIT_OK;
}

async function readDocument(command: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    throw new CliFailure(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliUsageError(`${file} is not JSON`, command);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function importSpace(args: string[], ctx: CliContext): Promise<number> {
  const command = 'spaces import';
  const { values, positionals } = parseCommandArgs(
    command,
    args,
    { ...DATABASE_OPTIONS, ...LIMIT_OPTIONS, parent: { type: 'string' } },
    true,
  );
  if (values.help) {
    ctx.stdout(SPACES_IMPORT_HELP);
    return EXIT_OK;
  }
  const spaceId = uuidArgument(command, positionals[0], '<spaceId>');
  const file = positionals[1];
  if (file === undefined || file === '') throw new CliUsageError('missing <FILE>', command);
  if (positionals.length > 2) throw new CliUsageError(`unexpected argument "${positionals[2]}"`, command);
  const parentId = values.parent === undefined ? undefined : uuidArgument(command, values.parent, '--parent');
  const limits = limitsFrom(command, values);
  const document = await readDocument(command, file);
  const url = resolveDatabaseUrl(command, values['database-url'], ctx);
  const result = await withPool(url, async (pool) => {
    const stores = await requireSpace(pool, spaceId);
    return new PgSubtreeStore(stores, spaceId, limits).importSubtree(document, parentId);
  });
  ctx.stdout(JSON.stringify(result));
  return EXIT_OK;
}

/** `stello spaces export|import`. */
export async function runSpaces(args: string[], ctx: CliContext): Promise<number> {
  return runSubcommand('spaces', args, ctx, SPACES_HELP, { export: exportSpace, import: importSpace });
}
