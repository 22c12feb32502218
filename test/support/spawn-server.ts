import { ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const SERVER_SCRIPT = path.join(ROOT, 'dist/src/server.js');
const STAMP = path.join(ROOT, 'dist/.test-build-stamp');
const LOCK = path.join(ROOT, 'dist/.test-build-lock');

/** Newest modification time of the TypeScript files the production build compiles. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function isStale(): boolean {
  if (!fs.existsSync(SERVER_SCRIPT) || !fs.existsSync(STAMP)) return true;
  const built = fs.statSync(STAMP).mtimeMs;
  return ['src', 'db'].some((dir) => newestSource(path.join(ROOT, dir)) > built);
}

/** Takes a directory lock shared by all jest workers (mkdir is atomic); a lock left by a crashed run expires. */
async function withBuildLock<T>(work: () => Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch {
      const age = Date.now() - (fs.statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 3 * 60_000) fs.rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`could not take ${LOCK}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return await work();
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

/**
 * Makes sure dist/ holds a build of the current sources (`tsc -p tsconfig.build.json`), building once
 * per change however many test files ask at the same time. tsc emits even when some file has a type
 * error (type errors are `npm test`'s first step), so only a missing server script is fatal.
 */
export async function ensureBuilt(): Promise<void> {
  if (!isStale()) return;
  await withBuildLock(async () => {
    if (!isStale()) return;
    const startedAt = new Date();
    const output = await new Promise<string>((resolve) => {
      execFile(
        process.execPath,
        [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
        { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
        (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
      );
    });
    if (!fs.existsSync(SERVER_SCRIPT)) {
      throw new Error(`the build did not produce ${SERVER_SCRIPT}:\n${output.slice(0, 4000)}`);
    }
    // The stamp gets the build's start time, so a file saved during the build makes the next call rebuild.
    fs.writeFileSync(STAMP, '');
    fs.utimesSync(STAMP, startedAt, startedAt);
  });
}

/** One JSON log line of the server (pino). */
export type LogLine = Record<string, unknown> & { msg?: string };

/** How the process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The production server running as a child process. */
export interface SpawnedServer {
  pid: number;
  port: number;
  baseUrl: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** stdout's JSON log lines so far. */
  logs(): LogLine[];
  /** Resolves with the first log line (past or future) that matches; rejects when the process ends first or after `limitMs`. */
  waitForLog(match: (line: LogLine) => boolean, limitMs?: number): Promise<LogLine>;
  kill(signal: NodeJS.Signals): void;
  /** Resolves when the process has ended. */
  exited: Promise<Exit>;
}

/**
 * Spawns `node dist/src/server.js` with exactly `env` (plus PATH, HOST=127.0.0.1, PORT=0 and LOG_LEVEL=info
 * unless given) in a temporary directory, so no developer .env leaks in, and resolves once it logs
 * `txedit listening on …` — the server listens before its database is prepared, so this says nothing
 * about the database. Call ensureBuilt() first (in beforeAll).
 */
export async function spawnServer(env: Record<string, string>, limitMs = 30_000): Promise<SpawnedServer> {
  const child: ChildProcess = spawn(process.execPath, [SERVER_SCRIPT], {
    cwd: os.tmpdir(),
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', DEMO_DATA: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let partial = '';
  const lines: LogLine[] = [];
  const waiters = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output += text;
    partial += text;
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete) {
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        lines.push({ msg: line });
      }
    }
    for (const wake of [...waiters]) wake();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let ended = false;
  void exited.then(() => {
    ended = true;
    for (const wake of [...waiters]) wake();
  });

  const waitForLog = (match: (line: LogLine) => boolean, waitMs = 20_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = lines.find(match);
        if (found || ended || Date.now() > deadline) {
          waiters.delete(check);
          clearTimeout(timer);
          if (found) resolve(found);
          else
            reject(
              new Error(
                `${ended ? 'the server ended' : `no such log line within ${waitMs / 1000} s`} before the awaited log line; output:\n${output.slice(-4000)}`,
              ),
            );
        }
      };
      const deadline = Date.now() + waitMs;
      const timer = setTimeout(check, waitMs + 10);
      waiters.add(check);
      check();
    });

  let listening: LogLine;
  try {
    listening = await waitForLog(
      (line) => typeof line.msg === 'string' && line.msg.startsWith('txedit listening on '),
      limitMs,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const port = Number(listening.port);
  return {
    pid: child.pid as number,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => output,
    logs: () => [...lines],
    waitForLog,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    exited,
  };
}

/** How a server run that ended by itself went: its exit and everything it wrote. */
export interface FinishedRun extends Exit {
  stdout: string;
  stderr: string;
}

/**
 * Runs `node dist/src/server.js` as spawnServer does, for a start that is expected to fail, and resolves
 * once it has exited (it is killed after `limitMs`). Call ensureBuilt() first.
 */
export function runServerToExit(env: Record<string, string>, limitMs = 30_000): Promise<FinishedRun> {
  const child = spawn(process.execPath, [SERVER_SCRIPT], {
    cwd: os.tmpdir(),
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', DEMO_DATA: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}
