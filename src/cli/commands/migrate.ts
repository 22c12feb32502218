import type { Command } from 'commander';
import { migrationSource } from '../../../db/migrations';
import { openDatabase } from '../../store/database';
import { CliError, type CliIo } from '../cli-io';
import { configFrom, describeDatabase } from './local-config';

/** `txedit migrate`: applies every pending migration to DATABASE_URL. */
export function registerMigrate(program: Command, io: CliIo): void {
  program
    .command('migrate')
    .description('apply pending database migrations to DATABASE_URL')
    .option('--json', 'print JSON instead of text')
    .action(async (options: { json?: boolean }) => {
      const config = configFrom(io.env);
      const db = openDatabase(config.database);
      try {
        const [, applied] = (await db.knex.migrate.latest({ migrationSource }).catch((error: Error) => {
          throw new CliError(`migrating ${describeDatabase(config.database)} failed: ${error.message.split('\n')[0]}`);
        })) as [number, string[]];
        if (options.json)
          io.stdout.write(`${JSON.stringify({ database: describeDatabase(config.database), applied }, null, 2)}\n`);
        else
          io.stdout.write(
            applied.length
              ? `applied ${applied.length} migration(s) to ${describeDatabase(config.database)}:\n${applied.map((m) => `  ${m}\n`).join('')}`
              : `${describeDatabase(config.database)} is up to date\n`,
          );
      } finally {
        await db.knex.destroy();
      }
    });
}
