import pg from 'pg';

/** SQLSTATE `object_in_use`: e.g. the template has a connection while it is being cloned. */
export const OBJECT_IN_USE = '55006';

/** Runs `fn` with a fresh admin connection, always closing it afterwards. */
export async function withAdminClient<TResult>(
  adminUrl: string,
  fn: (client: pg.Client) => Promise<TResult>,
): Promise<TResult> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'stello-tests' });
  // A server-side disconnect must surface through the pending query, not as an uncaught event.
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Quotes a database name for DDL (no identifier is ever interpolated unescaped). */
export function quoteIdent(name: string): string {
  return pg.escapeIdentifier(name);
}

/** The URL of database `name` on the server of `adminUrl` (same credentials and options). */
export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

/** Drops database `name` if it exists, disconnecting whoever is still connected. */
export async function dropDatabase(client: pg.Client, name: string): Promise<void> {
  await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}

/** Names of the databases whose name starts with `prefix`. */
export async function listDatabases(client: pg.Client, prefix: string): Promise<string[]> {
  const { rows } = await client.query<{ datname: string }>(
    'SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname',
    [prefix],
  );
  return rows.map((row) => row.datname);
}

/** True when `error` is a PostgreSQL error with SQLSTATE `code`. */
export function hasSqlState(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
