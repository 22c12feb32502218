import type { Command } from 'commander';
import { createServices } from '../../composition';
import { createLogger } from '../../logger';
import { databaseIsReachable, openDatabase } from '../../store/database';
import { CliError, nextSignal, type CliIo } from '../cli-io';
import { configFrom, describeDatabase } from './local-config';

/**
 * `txedit worker`: the postback outbox worker and the batch worker, in this process, against
 * DATABASE_URL, until SIGTERM/SIGINT. Run it beside servers started with POSTBACK_WORKER=false and
 * BATCH_WORKER=false; several workers (and nodes) may run at once: both claim work under leases.
 */
export function registerWorker(program: Command, io: CliIo): void {
  program
    .command('worker')
    .description('deliver postbacks and process uploaded batches against DATABASE_URL until SIGTERM')
    .option('--no-postbacks', 'do not deliver postbacks')
    .option('--no-batches', 'do not process batches')
    .addHelpText(
      'after',
      '\nConfiguration comes from the environment (and .env), as for the server: DATABASE_URL, POSTBACK_*, LOG_LEVEL…',
    )
    .action(async (options: { postbacks: boolean; batches: boolean }) => {
      if (!options.postbacks && !options.batches)
        throw new CliError('nothing to do: --no-postbacks and --no-batches together', 2);
      const config = configFrom(io.env);
      const logger = createLogger(config.logLevel);
      // A long-running process that writes, like the server: its SQLite checkpoints leave its event loop too.
      const db = openDatabase(config.database, {
        poolMax: config.databasePoolMax,
        checkpointWorker: config.sqliteCheckpointWorker,
      });
      const services = createServices(config, db, logger);
      try {
        if (!(await databaseIsReachable(db)))
          throw new CliError(`cannot reach the database ${describeDatabase(config.database)}`);
        const stopped = nextSignal(io);
        // The options decide, not POSTBACK_WORKER/BATCH_WORKER: those are the servers' (often set false beside this).
        services.lifecycle.start({
          postbackWorker: options.postbacks,
          batchWorker: options.batches,
          impactApiWorker: options.batches,
          scheduler: false,
        });
        logger.info(
          { database: config.database.client, postbacks: options.postbacks, batches: options.batches },
          'txedit worker started',
        );
        const signal = await stopped;
        logger.info({ signal }, 'txedit worker stopping: finishing work in flight');
        await services.lifecycle.stop();
        logger.info('txedit worker stopped');
      } finally {
        await services.lifecycle.stop();
      }
    });
}
