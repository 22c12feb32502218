import { ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';

/** A server the benchmark started as a child process. */
export interface ChildServer {
  name: string;
  pid: number;
  port: number;
  baseUrl: string;
  /** The last output lines (stdout and stderr), for diagnosing a failed start or a crash. */
  output(): string;
  /** SIGTERM (or `signal`), then waits for the exit (SIGKILL after 20 s). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitForHealth(baseUrl: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode} before answering /healthz`);
    try {
      const response = await fetch(`${baseUrl}/healthz`);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`did not answer /healthz with 200 within ${timeoutMs / 1000} s`);
}

/**
 * `node [nodeArgs] script [args]` with exactly `env` (plus PATH), in a temporary working directory so a
 * developer's .env cannot leak into the measurement.
 */
export function spawnBenchChild(options: {
  script: string;
  args?: string[];
  env: Record<string, string>;
  nodeArgs?: string[];
  stdio: 'ignore' | 'pipe';
}): ChildProcess {
  return spawn(process.execPath, [...(options.nodeArgs ?? []), options.script, ...(options.args ?? [])], {
    cwd: os.tmpdir(),
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...options.env },
    stdio: options.stdio === 'ignore' ? 'ignore' : ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts a server with `spawnBenchChild` and resolves once GET /healthz answers 200. */
export async function startChildServer(options: {
  name: string;
  script: string;
  port: number;
  env: Record<string, string>;
  nodeArgs?: string[];
}): Promise<ChildServer> {
  const child = spawnBenchChild({ ...options, stdio: 'pipe' });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const baseUrl = `http://127.0.0.1:${options.port}`;
  try {
    await waitForHealth(baseUrl, child, 60_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${options.name} ${(error as Error).message}\n${tail}`);
  }
  return {
    name: options.name,
    pid: child.pid as number,
    port: options.port,
    baseUrl,
    output: () => tail,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
