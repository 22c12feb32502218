import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/cli-io';

/** What one CLI run printed and how it ended. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI's main function in this process with captured output, the given environment, and
 * optionally some stdin (piped, not a terminal). `signals` lets a test stop a long-running command.
 */
export async function runTxedit(
  argv: string[],
  options: { env?: Record<string, string | undefined>; stdin?: string } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const out = new PassThrough();
  const err = new PassThrough();
  out.on('data', (chunk) => (stdout += String(chunk)));
  err.on('data', (chunk) => (stderr += String(chunk)));
  const exits: number[] = [];
  const io: CliIo = {
    stdout: out,
    stderr: err,
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    env: options.env ?? {},
    onSignal: () => () => undefined,
    exit: (code) => void exits.push(code),
  };
  const code = await runCli(argv, io);
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout, stderr };
}

/** The JSON a run printed on stdout. */
export function json<T = unknown>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${run.code}): ${run.stdout}\nstderr: ${run.stderr}`);
  }
}
