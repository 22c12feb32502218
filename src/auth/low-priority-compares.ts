import { ChildProcess, spawn } from 'node:child_process';
import bcrypt from 'bcrypt';

/** Settings of a `LowPriorityCompares`. */
export interface LowPriorityComparesOptions {
  /** Called when the compare process cannot be started or ends unexpectedly (compares then run in-process). */
  onTrouble?: (message: string, error?: unknown) => void;
  /** After trouble, how long compares stay in-process before a new process is tried (ms). */
  retryAfterMs?: number;
  now?: () => number;
}

interface Pending {
  password: string;
  hash: string;
  resolve: (ok: boolean) => void;
  reject: (error: unknown) => void;
}

type Answer = { id: number; ok: boolean } | { id: number; error: string };

// The compare process, run with `node -e`: no file of its own to find from `src/` (tests) or `dist/`.
// It lowers its own priority before anything starts a thread, so bcrypt's threadpool inherits it: its
// autogroup's nice (its own session, so it affects nothing else) where the kernel groups by session, and
// the task nice where it does not (e.g. under a systemd unit's cgroup). It ends when the server does.
const COMPARE_PROCESS = `
const fs = require('node:fs');
const os = require('node:os');
try { fs.writeFileSync('/proc/self/autogroup', '19'); } catch {}
try { os.setPriority(19); } catch {}
const bcrypt = require(process.env.TXEDIT_BCRYPT_MODULE);
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  bcrypt.compare(m.password, m.hash).then(
    (ok) => process.send({ id: m.id, ok }),
    (error) => process.send({ id: m.id, error: String((error && error.message) || error) }),
  );
});
process.send({ id: 0, ok: true });
`;

/**
 * bcrypt compares in a separate process at the lowest CPU priority, for password checks that are likely
 * to fail (see `PasswordVerifier`): a wrong-password flood then spends the machine's idle time, not the
 * time the edits and the database need. On a 2-core machine shared with MariaDB, a core-long compare at
 * normal priority takes its core-seconds out of the success path's; at nice 19 in its own session it
 * takes what is left over.
 *
 * Nothing is lost when the process is missing: compares that cannot reach it, and those under way when it
 * ends, run in-process at normal priority, and a new process is tried after `retryAfterMs`.
 * The password crosses a local IPC pipe to a child of the same user and is never written anywhere.
 */
export class LowPriorityCompares {
  private child: ChildProcess | undefined;
  private ready: Promise<boolean> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private troubleUntil = 0;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly options: LowPriorityComparesOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** Whether `password` matches `hash`, compared in the low-priority process when it is there. */
  async compare(password: string, hash: string): Promise<boolean> {
    const child = this.closed || this.now() < this.troubleUntil ? undefined : await this.started();
    if (!child) return bcrypt.compare(password, hash);
    return new Promise<boolean>((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { password, hash, resolve, reject });
      this.hold(child, true);
      child.send({ id, password, hash }, (error) => {
        if (error) this.fallBack(id);
      });
    });
  }

  /** The pid of the compare process, while it runs (tests read its priority). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Ends the compare process; compares still waiting finish in-process. */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }

  private started(): Promise<ChildProcess | undefined> {
    if (this.child && this.ready) return this.ready.then((ok) => (ok ? this.child : undefined));
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ['-e', COMPARE_PROCESS], {
        // Its own session: its own autogroup, whose priority it may lower without lowering the server's.
        detached: true,
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        env: { PATH: process.env.PATH ?? '', TXEDIT_BCRYPT_MODULE: require.resolve('bcrypt') },
      });
    } catch (error) {
      this.trouble('cannot start the low-priority compare process', error);
      return Promise.resolve(undefined);
    }
    this.child = child;
    this.ready = new Promise<boolean>((resolve) => {
      child.once('message', () => {
        if (this.pending.size === 0) this.hold(child, false);
        resolve(true);
      });
      child.once('exit', () => resolve(false));
    });
    child.on('message', (answer: Answer) => this.settle(answer));
    child.once('error', (error) => this.trouble('the low-priority compare process failed', error));
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      this.ready = undefined;
      if (!this.closed) this.trouble(`the low-priority compare process ended (${signal ?? `exit code ${code}`})`);
      for (const id of [...this.pending.keys()]) this.fallBack(id);
    });
    // Held until it says it is ready: a caller is waiting for it.
    this.hold(child, true);
    return this.ready.then((ok) => (ok ? child : undefined));
  }

  private settle(answer: Answer): void {
    const waiting = this.pending.get(answer.id);
    if (!waiting) return;
    this.pending.delete(answer.id);
    if ('error' in answer) waiting.reject(new Error(answer.error));
    else waiting.resolve(answer.ok);
    if (this.pending.size === 0 && this.child) this.hold(this.child, false);
  }

  /** A compare the process will not answer runs here instead. */
  private fallBack(id: number): void {
    const waiting = this.pending.get(id);
    if (!waiting) return;
    this.pending.delete(id);
    bcrypt.compare(waiting.password, waiting.hash).then(waiting.resolve, waiting.reject);
  }

  private trouble(message: string, error?: unknown): void {
    this.troubleUntil = this.now() + (this.options.retryAfterMs ?? 10_000);
    this.options.onTrouble?.(message, error);
  }

  // The process must not keep a CLI command or a test alive on its own, but an awaited compare must.
  private hold(child: ChildProcess, busy: boolean): void {
    if (busy) {
      child.ref();
      child.channel?.ref();
    } else {
      child.unref();
      child.channel?.unref();
    }
  }
}
