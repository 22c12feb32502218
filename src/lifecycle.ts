import type { Logger } from './logger';

/** The background parts a process may run beside (or instead of) the HTTP server. */
export interface BackgroundParts {
  /** The postback outbox worker. */
  postbackWorker: boolean;
  /** The batch worker (uploaded files). */
  batchWorker: boolean;
  /** The worker applying impact.com API submissions. */
  impactApiWorker: boolean;
  /** The processing scheduler (hourly roll-up, nightly processing) and the hourly sweep of expired idempotent answers. */
  scheduler: boolean;
}

/** Starts a process's background parts and stops everything the services hold, in one order. */
export interface Lifecycle {
  /**
   * Starts the background parts: each one `parts` names as given, the others as the config says
   * (POSTBACK_WORKER, BATCH_WORKER, IMPACT_API_WORKER; the scheduler always). Does nothing once stop() was called.
   */
  start(parts?: Partial<BackgroundParts>): void;
  /**
   * Stops the scheduler and the workers (work in flight finishes and is recorded), then closes the
   * postback dispatcher, the failed-attempt limiter, the password compare process and — unless
   * `keepDatabase` — the database pool, last. A step that fails is logged and the rest still run.
   * Stopping again returns the first stop.
   */
  stop(options?: { keepDatabase?: boolean }): Promise<void>;
}

interface Runs {
  start(): void;
  stop(): Promise<void>;
}

interface Closes {
  close(): Promise<void>;
}

/** What a lifecycle starts and stops. */
export interface LifecycleParts {
  postbackWorker: Runs;
  batchWorker: Runs;
  impactApiWorker: Runs;
  scheduler: Runs;
  /** Pulls from brands' servers (started with the scheduler). */
  intakePulls?: Runs;
  /** The FTP, SFTP and SMTP intake servers (started by the server process, stopped here first). */
  intakeServers?: Closes;
  /** Drops expired idempotent answers (run hourly with the scheduler). */
  sweepIdempotency: () => Promise<unknown>;
  /** Writes the refusal counts still in memory (before the pool closes). */
  flushRefusals: () => Promise<void>;
  postbackDispatcher: Closes;
  limiter: Closes;
  /** The password verifier: its compare process. */
  passwords: Closes;
  /** The database pool (knex), and with it the SQLite checkpoint worker. */
  pool: { destroy(): Promise<void> };
  /** The parts started when start() names none. */
  defaults: BackgroundParts;
  logger: Pick<Logger, 'warn' | 'error'>;
}

const SWEEP_EVERY_MS = 3_600_000;

/** The lifecycle of a process's services (see Lifecycle). */
export function createLifecycle(parts: LifecycleParts): Lifecycle {
  const { logger } = parts;
  let sweep: NodeJS.Timeout | null = null;
  let stopped: Promise<void> | null = null;

  const start = (wanted: Partial<BackgroundParts> = {}): void => {
    if (stopped) return;
    const run = { ...parts.defaults, ...wanted };
    if (run.postbackWorker) parts.postbackWorker.start();
    if (run.batchWorker) parts.batchWorker.start();
    if (run.impactApiWorker) parts.impactApiWorker.start();
    if (run.scheduler) {
      parts.scheduler.start();
      parts.intakePulls?.start();
      // Remembered idempotent answers expire after IDEMPOTENCY_TTL_HOURS; drop them hourly.
      sweep ??= setInterval(
        () => parts.sweepIdempotency().catch((error) => logger.warn({ err: error }, 'idempotency sweep failed')),
        SWEEP_EVERY_MS,
      ).unref();
    }
  };

  const stopAll = async (keepDatabase: boolean): Promise<void> => {
    if (sweep) clearInterval(sweep);
    const steps: Array<[string, () => Promise<void>]> = [
      // No new files come in while the rest stops; a cut upload never becomes a batch.
      ['intake servers', () => parts.intakeServers?.close() ?? Promise.resolve()],
      ['intake pulls', () => parts.intakePulls?.stop() ?? Promise.resolve()],
      ['processing scheduler', () => parts.scheduler.stop()],
      // In-flight postbacks finish (each is bounded by its timeout) and are recorded before the pool closes.
      ['postback worker', () => parts.postbackWorker.stop()],
      // Rows already started finish; the batch is handed back and the next start resumes it.
      ['batch worker', () => parts.batchWorker.stop()],
      // Submissions being applied finish; the rest stay queued for the next start (or another instance).
      ['impact API worker', () => parts.impactApiWorker.stop()],
      ['refusal counts', () => parts.flushRefusals()],
      ['postback dispatcher', () => parts.postbackDispatcher.close()],
      ['failed-attempt limiter', () => parts.limiter.close()],
      ['password compare process', () => parts.passwords.close()],
    ];
    if (!keepDatabase) steps.push(['database pool', () => parts.pool.destroy()]);
    for (const [part, step] of steps) {
      try {
        await step();
      } catch (error) {
        logger.error({ err: error, part }, `stopping the ${part} failed; stopping the rest`);
      }
    }
  };

  return {
    start,
    stop: ({ keepDatabase = false } = {}) => (stopped ??= stopAll(keepDatabase)),
  };
}
