// The storage layer: Postgres connection, migrations, and the stores built on them.
export { type Database, type Queryable, type QueryResult, type Row, PoolDatabase, pgErrorCode } from './database.ts';
export { openDatabase, defaultDataDir, type OpenDatabaseOptions } from './connect.ts';
export { startEmbeddedPostgres, freePort, type EmbeddedServer, type EmbeddedOptions } from './embedded.ts';
export { redactUrl } from './redact-url.ts';
export {
  migrate,
  migrationStatus,
  loadMigrations,
  MigrationError,
  MIGRATIONS_DIR,
  type Migration,
  type MigrationState,
  type MigrateResult,
} from './migrate.ts';
export { DbError, NotFoundError, StaleConfigVersionError, ConflictError, InvalidConfigError } from './errors.ts';
export * from './pipelines.ts';
export * from './versions.ts';
export { syncIdSequences } from './sequences.ts';
