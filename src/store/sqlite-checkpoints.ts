import { Worker } from 'node:worker_threads';

/**
 * SQLite's own checkpoints (wal_autocheckpoint, 1000 pages) run inside the COMMIT that passes the
 * threshold, on the connection that committed: better-sqlite3 is synchronous, so the copy of the WAL into
 * the file and its two fsyncs (synchronous=NORMAL syncs only at checkpoints) stall the event loop, every
 * request with it. Here a worker thread with a connection of its own checkpoints instead, and the main
 * connection runs with wal_autocheckpoint=0.
 *
 * The worker looks every `intervalMs` rather than being told after each commit: the main thread then
 * pays nothing per commit (no message, no stat), a PASSIVE checkpoint with nothing new to copy costs the
 * worker microseconds, and 100 ms of writes at the benchmark's rate is about SQLite's own 1000 pages.
 * PASSIVE never waits for the writer and never blocks it. When it has copied every frame before the
 * writer's next transaction, that transaction starts the WAL over from its beginning; under steady writes
 * it rarely has (a commit lands while it copies), so the WAL keeps growing, however much is copied.
 * Once the frames written since the WAL last started over pass `hardCapBytes`, a RESTART checkpoint takes
 * the write lock, copies the few frames PASSIVE has not, and waits until no reader uses the WAL, so that
 * the writer's next transaction starts over at the beginning of the file: the file stays within the cap
 * and one interval's writes, and the writer waits for that tail only, once per cap's worth of writes.
 * RESTART rather than TRUNCATE, because overwriting the file costs the writer less than growing it again.
 * Once the writes pause (no new frame for a whole interval) with everything copied, a WAL larger than
 * `trimBytes` is truncated to nothing (TRUNCATE, nothing left to copy); not while writes go on, when the
 * writer starts it over by itself.
 * The writer's transactions last milliseconds, so the worker waits `busyTimeoutMs` (200) for the write
 * lock; a checkpoint that still finds it busy (a long reader in another process pins old frames, which
 * SQLite cannot restart under: better-sqlite3's "checkpoint starvation") is not tried again for a second,
 * so that the writer is not held up tick after tick.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.filename);
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
const wal = workerData.filename + '-wal';
// A WAL frame: a page and its 24-byte header.
const frameBytes = db.pragma('page_size', { simple: true }) + 24;
let last = '';
let blockingAfter = 0;
let paused = false;
const checkpoint = (mode) => {
  const [result] = db.pragma('wal_checkpoint(' + mode + ')');
  const said = JSON.stringify(result);
  paused = mode === 'PASSIVE' && said === last;
  if (mode !== 'PASSIVE' || said !== last) parentPort.postMessage({ mode, ...result });
  last = said;
  return result;
};
const walBytes = () => {
  try { return fs.statSync(wal).size; } catch (error) { if (error.code === 'ENOENT') return 0; throw error; }
};
const timer = setInterval(() => {
  const copied = checkpoint('PASSIVE');
  if (Date.now() < blockingAfter) return;
  // The frames written since the WAL last started over, not the file (which a restart does not shrink).
  // A RESTART only lets the next write start over: while none comes, there is nothing to restart again.
  const mode = !paused && copied.log * frameBytes > workerData.hardCapBytes ? 'RESTART'
    : paused && copied.log === copied.checkpointed && walBytes() > workerData.trimBytes ? 'TRUNCATE' : null;
  if (mode !== null && checkpoint(mode).busy) blockingAfter = Date.now() + 1000;
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** SQLite's default wal_autocheckpoint (pages): what a connection checkpoints by itself without the worker. */
export const CONNECTION_AUTOCHECKPOINT_PAGES = 1000;

/** Tuning of the checkpoint worker; production uses the defaults, tests shorten them. */
export interface CheckpointWorkerOptions {
  /** How often the worker checkpoints what the WAL holds (ms). */
  intervalMs?: number;
  /**
   * The frames written since the WAL last started over, in bytes, past which a RESTART checkpoint makes the
   * writer start it over (64 MiB).
   */
  hardCapBytes?: number;
  /** The WAL file size past which a WAL wholly copied is truncated (bytes, 4 MiB). */
  trimBytes?: number;
  /** Wait of the worker's connection for the write lock, before a RESTART or TRUNCATE gives up (ms, 200). */
  busyTimeoutMs?: number;
  /** A worker script file instead of the built-in one (tests: a missing file, to see the fallback). */
  script?: string;
}

/** One checkpoint's result, as `PRAGMA wal_checkpoint` gives it (frames in the WAL, frames copied). */
export interface CheckpointResult {
  mode: 'PASSIVE' | 'RESTART' | 'TRUNCATE';
  busy: number;
  log: number;
  checkpointed: number;
}

type Log = { error(message: string): void };

/** Anything with better-sqlite3's `pragma` and `open`: a connection of the main pool. */
interface Connection {
  open: boolean;
  pragma(sql: string): unknown;
}

/**
 * Who checkpoints a file database's WAL: the worker thread (the main connections' wal_autocheckpoint is
 * then 0) or, when the worker failed, the connections themselves as SQLite does by default.
 */
export class SqliteCheckpoints {
  private worker: Worker | null = null;
  /** Resolves when the worker's thread has ended, however it ended. */
  private exited: Promise<void> = Promise.resolve();
  private alive = false;
  private stopping = false;
  private failed = false;
  private readonly connections = new Set<Connection>();
  private passive = 0;
  private restarted = 0;
  private truncated = 0;
  private latest: CheckpointResult | null = null;

  constructor(
    private readonly filename: string,
    private readonly log: Log,
    private readonly options: CheckpointWorkerOptions = {},
  ) {}

  /**
   * Sets a new connection of the main pool to the current arrangement, and starts the worker the first
   * time (after the connection switched the file to WAL, so the worker opens a WAL database).
   */
  adopt(connection: Connection): void {
    this.connections.add(connection);
    connection.pragma(`wal_autocheckpoint = ${this.failed ? CONNECTION_AUTOCHECKPOINT_PAGES : 0}`);
    if (this.worker || this.failed || this.stopping) return;
    try {
      this.start();
    } catch (error) {
      this.fallBack(`did not start: ${(error as Error).message}`);
    }
  }

  /** What the worker did so far (tests and diagnostics). */
  status() {
    return {
      /** The worker's thread is there (started, not ended). */
      running: this.alive,
      fellBack: this.failed,
      passiveCheckpoints: this.passive,
      restarts: this.restarted,
      truncations: this.truncated,
      latest: this.latest,
    };
  }

  /** Stops the worker and waits for its thread to end (terminated if it does not within a few seconds). */
  async stop(): Promise<void> {
    this.stopping = true;
    const worker = this.worker;
    if (!worker) return;
    // A worker that already ended (it failed) ignores the message and its exit has been seen.
    worker.postMessage('stop');
    const force = setTimeout(() => void worker.terminate(), 5000);
    await this.exited;
    clearTimeout(force);
  }

  private start(): void {
    const worker = new Worker(this.options.script ?? WORKER_SOURCE, {
      eval: this.options.script === undefined,
      workerData: {
        driver: require.resolve('better-sqlite3'),
        filename: this.filename,
        intervalMs: this.options.intervalMs ?? 100,
        hardCapBytes: this.options.hardCapBytes ?? 64 * 1024 * 1024,
        trimBytes: this.options.trimBytes ?? 4 * 1024 * 1024,
        busyTimeoutMs: this.options.busyTimeoutMs ?? 200,
      },
    });
    // Never what keeps the process alive: the server's own handles do that, and stop() ends it.
    worker.unref();
    this.worker = worker;
    this.alive = true;
    this.exited = new Promise((resolve) =>
      worker.once('exit', (code) => {
        this.alive = false;
        if (!this.stopping) this.fallBack(`ended (exit code ${code})`);
        resolve();
      }),
    );
    worker.on('message', (result: CheckpointResult) => this.record(result));
    worker.on('error', (error) => this.fallBack(`failed: ${error.message}`));
  }

  private record(result: CheckpointResult): void {
    this.latest = result;
    // A RESTART or TRUNCATE that found the write lock busy did nothing: counted are those that did.
    if (result.mode === 'PASSIVE') this.passive += 1;
    else if (result.busy) return;
    else if (result.mode === 'RESTART') this.restarted += 1;
    else this.truncated += 1;
  }

  /** The WAL must never go unchecked: the main connections take their checkpoints back. */
  private fallBack(why: string): void {
    if (this.failed || this.stopping) return;
    this.failed = true;
    this.log.error(
      `SQLite checkpoint worker ${why}; the connection checkpoints again (wal_autocheckpoint=${CONNECTION_AUTOCHECKPOINT_PAGES})`,
    );
    for (const connection of this.connections) {
      if (!connection.open) this.connections.delete(connection);
      // A connection setting, not part of any transaction: safe between any two statements.
      else connection.pragma(`wal_autocheckpoint = ${CONNECTION_AUTOCHECKPOINT_PAGES}`);
    }
  }
}
