import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { openDatabase } from '../../db/connect.ts';
import { defaultJetwayDir } from '../../web/options.ts';
import { migrate, migrationStatus, type MigrationState } from '../../db/migrate.ts';
import { CliExit, type CliIO } from '../io.ts';

interface MigrateOptions {
  status?: boolean;
  postgresUrl?: string;
  dataDir: string;
  output: 'text' | 'json';
}

function stateText(s: MigrationState): string {
  if (s.unknown) return `applied ${s.appliedAt?.toISOString() ?? ''} (unknown to this Jetway)`;
  if (s.checksumMismatch) return `applied ${s.appliedAt?.toISOString() ?? ''} (CHANGED since: checksum mismatch)`;
  return s.applied ? `applied ${s.appliedAt?.toISOString() ?? ''}` : 'pending';
}

function stateJson(s: MigrationState): Record<string, unknown> {
  return {
    name: s.name,
    checksum: s.checksum,
    applied: s.applied,
    applied_at: s.appliedAt?.toISOString() ?? null,
    checksum_mismatch: s.checksumMismatch,
    unknown: s.unknown,
  };
}

/** `jetway migrate`: applies pending database migrations, or shows their state with --status. */
export function registerMigrate(program: Command, io: CliIO): void {
  program
    .command('migrate')
    .description('apply pending database migrations (or show their state with --status)')
    .option('--status', 'only show which migrations are applied and which are pending')
    .addOption(new Option('--postgres-url <url>', 'an external Postgres instead of the embedded one').env('JETWAY_POSTGRES_URL'))
    // the same folder as jetway web's --data-dir: the embedded Postgres is its postgres/
    .addOption(new Option('--data-dir <dir>', 'where Jetway keeps its data, as for jetway web (its embedded Postgres is in <dir>/postgres)').default(defaultJetwayDir()).env('JETWAY_DATA_DIR'))
    .addOption(new Option('--output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (opts: MigrateOptions) => {
      const db = await openDatabase({ postgresUrl: opts.postgresUrl, dataDir: join(opts.dataDir, 'postgres'), migrate: false, shareRunning: true });
      try {
        const applied = opts.status ? [] : (await migrate(db)).applied;
        const states = await migrationStatus(db);
        const bad = states.filter((s) => s.checksumMismatch || s.unknown);
        if (opts.output === 'json') {
          io.stdout(
            `${JSON.stringify(
              {
                database: db.displayUrl,
                applied,
                pending: states.filter((s) => !s.applied).map((s) => s.name),
                migrations: states.map(stateJson),
              },
              null,
              2,
            )}\n`,
          );
        } else {
          io.stdout(`database: ${db.displayUrl}\n`);
          if (!opts.status) {
            io.stdout(applied.length > 0 ? `applied: ${applied.join(', ')}\n` : 'already up to date\n');
          }
          const width = Math.max(...states.map((s) => s.name.length), 4);
          for (const s of states) io.stdout(`${s.name.padEnd(width)}  ${stateText(s)}\n`);
        }
        if (bad.length > 0) throw new CliExit(1, `error: migrations ${bad.map((s) => s.name).join(', ')} do not match this Jetway`);
      } finally {
        await db.close();
      }
    });
}
