/** Where the test PostgreSQL came from (see `startPostgres`). */
export type TestPostgresSource = 'env' | 'container' | 'embedded';

/** What the global setup hands to test workers through vitest's `provide`/`inject`. */
export interface TestPostgres {
  /** URL of a role allowed to create and drop databases, on the server's maintenance database. */
  adminUrl: string;
  /** Name of the migrated template database that each test database is cloned from. */
  templateDb: string;
  /** Random id of this test run; every database the run creates carries it in its name. */
  runId: string;
  /** How the server was obtained. */
  source: TestPostgresSource;
}

/** Key under which `TestPostgres` is provided. */
export const TEST_POSTGRES_KEY = 'stelloTestPostgres';

declare module 'vitest' {
  export interface ProvidedContext {
    stelloTestPostgres: TestPostgres;
  }
}
