import type { IncomingMessage, ServerResponse } from 'node:http';
import dotenv from 'dotenv';
import { seedDemoData, databaseIsEmpty, DEMO_PASSWORD } from '../db/seeds/demo-data';
import { createApp } from './app';
import { hashPassword } from './auth/password-verifier';
import { createServices } from './composition';
import { Config, ConfigError, loadConfig } from './config';
import { createLogger, Logger } from './logger';
import { refusalReporter } from './http/connection-limits';
import { createListener, listen, ListenError } from './http/listener';
import { ResponsesInFlight } from './http/responses-in-flight';
import { Database, migrateToLatest, openDatabase, pendingMigrations } from './store/database';
import { schemaNotCurrent } from './store/schema-readiness';

/** Why the server is waiting for someone else's `txedit migrate` (logged without a stack trace). */
class SchemaNotCurrentError extends Error {}

/**
 * Applies migrations (or, with MIGRATE_ON_START=false, waits for them: the workers and schedulers start
 * only on a current schema) and, on an empty embedded database, the demo data.
 */
async function prepareDatabase(config: Config, db: Database, logger: Logger): Promise<void> {
  if (config.migrateOnStart) await migrateToLatest(db);
  else {
    const pending = await pendingMigrations(db);
    if (pending.length > 0) throw new SchemaNotCurrentError(`${schemaNotCurrent(pending)}; run txedit migrate`);
  }
  if (config.database.client === 'sqlite' && config.demoData && (await databaseIsEmpty(db.knex))) {
    await seedDemoData(db.knex, await hashPassword(DEMO_PASSWORD, config.bcryptCost), Date.now());
    logger.info({ campaignId: 100, password: undefined }, 'created demo data (campaign 100, see README)');
  }
}

/** Retries `work` every few seconds until it succeeds, so a server started before its database recovers. */
function untilItWorks(work: () => Promise<void>, logger: Logger, what: string): Promise<void> {
  return new Promise((resolve) => {
    const attempt = () =>
      work().then(resolve, (error) => {
        logger.error(
          error instanceof SchemaNotCurrentError ? { reason: error.message } : { err: error },
          `${what} failed; retrying in 5 s`,
        );
        setTimeout(attempt, 5000).unref();
      });
    attempt();
  });
}

/** Process entry: config → database → migrations → HTTP server; graceful shutdown on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  dotenv.config();
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`txedit: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const db = openDatabase(config.database, {
    poolMax: config.databasePoolMax,
    checkpointWorker: config.sqliteCheckpointWorker,
    log: {
      warn: (message) => logger.warn({ source: 'knex' }, message),
      error: (message) => logger.error({ source: 'knex' }, message),
    },
  });
  const services = createServices(config, db, logger);
  const app = createApp(services);
  const listener = createListener(
    app,
    { certFile: config.security.tlsCertFile, keyFile: config.security.tlsKeyFile },
    config.http,
    {
      trustProxy: config.trustProxy,
      onRefused: refusalReporter((fields, message) => logger.warn(fields, message)),
    },
  );
  const { server } = listener;
  // Nothing touches the database before the port is ours: a second instance started by mistake on a
  // busy port says so in one line and leaves the database alone.
  try {
    await listen(server, config.port, config.host);
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    process.stderr.write(`txedit: ${error.message}\n`);
    process.exit(1);
  }
  // The FTP, SFTP and SMTP intake servers the config turns on: a busy port ends the start like HTTP's.
  try {
    const ports = await services.intakeServers.start();
    if (ports.ftp !== null || ports.sftp !== null || ports.smtp !== null)
      logger.info({ ...ports, host: config.intake.host ?? config.host }, 'intake servers listening');
  } catch (error) {
    process.stderr.write(`txedit: an intake server cannot listen: ${(error as Error).message}\n`);
    process.exit(1);
  }
  // Once listening, a server error (a failed accept) is logged rather than ending the process.
  server.on('error', (error) => logger.error({ err: error }, 'HTTP server error'));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info(
    { port, host: config.host, database: config.database.client },
    `txedit listening on ${listener.protocol}://${config.host}:${port}`,
  );
  process.on('SIGHUP', () => {
    try {
      listener.reloadTls();
      logger.info('TLS certificate reloaded');
    } catch (error) {
      logger.error({ err: error }, 'TLS certificate reload failed; keeping the old one');
    }
  });

  let stopping = false;
  // Node keeps a keep-alive connection open (and serves more requests on it) for keepAliveTimeout after
  // each answer, even once closing: answers given while stopping say `Connection: close` instead.
  const answering = new ResponsesInFlight();
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (stopping) res.setHeader('Connection', 'close');
    answering.add(res);
  });
  // The workers and the scheduler (those the config turns on) start only on a prepared database.
  untilItWorks(() => prepareDatabase(config, db, logger), logger, 'database preparation').then(() => {
    if (!stopping) services.lifecycle.start();
  });

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    server.close(() => {
      // Work in flight finishes and is recorded; the pool closes last.
      services.lifecycle.stop().finally(() => {
        logger.info('stopped');
        process.exit(0);
      });
    });
    server.closeIdleConnections();
    for (const res of answering.current()) if (!res.headersSent) res.setHeader('Connection', 'close');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`txedit: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
