import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { postModificationFile, type PostSummary } from './post-file';
import { createProgressDisplay, type MaybeTerminal } from './progress';
import type { Sleep } from './request';

/** Exit codes of `txedit post`. */
export const POST_EXIT_CODES = {
  /** Every row of the file is recorded as succeeded. */
  allSucceeded: 0,
  /** Some rows failed (this run or, for skipped rows, an earlier one); see the results file. */
  someFailed: 1,
  /** Usage error, or the file, URL or results file was refused; nothing was posted. */
  usage: 2,
  /** Stopped by Ctrl-C; the same command resumes. */
  interrupted: 130,
} as const;

/** Where the command writes and how it ends; tests replace the process's. */
export interface PostCommandIo {
  stdout: { write(text: string): unknown };
  stderr: MaybeTerminal;
  /** Ends the process right away: a usage error commander found, or a second Ctrl-C. */
  exit(code: number): void;
  /** Sets the exit status once a run is over (the process then ends on its own, output flushed). */
  setExitCode(code: number): void;
  /** Calls `listener` on Ctrl-C (and SIGTERM); returns the unsubscribe. */
  onInterrupt(listener: () => void): () => void;
  /** The CLI's own stop signal (CliIo), if it has one: resolves when the process is asked to stop. */
  stopRequested?: () => Promise<string>;
  /** Waiting between retries (tests: a sleep that returns at once). */
  sleep?: Sleep;
}

const processIo: PostCommandIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  exit: (code) => process.exit(code),
  setExitCode: (code) => {
    process.exitCode = code;
  },
  onInterrupt: (listener) => {
    process.on('SIGINT', listener);
    process.on('SIGTERM', listener);
    return () => {
      process.off('SIGINT', listener);
      process.off('SIGTERM', listener);
    };
  },
};

interface PostCommandOptions {
  url: string;
  concurrency: number;
  retries: number;
  timeout: number;
  results?: string;
  repostFailed?: boolean;
  json?: boolean;
}

/**
 * Registers `txedit post FILE --url URL`: the Lead Poster as a command (see postModificationFile).
 * Usage errors exit with 2 rather than commander's 1, so that 1 always means "rows failed".
 */
export function registerPostCommand(program: Command, io: Partial<PostCommandIo> = {}): Command {
  const out: PostCommandIo = { ...processIo, ...io };
  const command = program
    .command('post')
    .description('post every row of a Lead Poster file (TXT or CSV) to a LinkTrust-compatible /transaction.edit')
    .argument('<file>', 'tab-delimited TXT or CSV modification file')
    .requiredOption('--url <url>', 'the /transaction.edit URL, or the tracking domain (https://track.example.com)')
    .option('--concurrency <n>', 'rows in flight at once', integerIn(1, 100), 8)
    .option('--retries <n>', 'retries of temporary failures and network errors, with backoff', integerIn(0, 20), 5)
    .option('--timeout <seconds>', 'limit for one request', positiveSeconds, 30)
    .option('--results <path>', 'results file (default: FILE.results.csv); an existing one is resumed')
    .option('--repost-failed', 'also post rows an earlier run recorded as permanent failures')
    .option('--json', 'print the summary as JSON on stdout')
    .addHelpText(
      'after',
      '\nRows the results file already shows as succeeded or permanently failed are skipped, so an\n' +
        'interrupted run resumes. Exit status: 0 all rows succeeded, 1 some failed, 2 usage or file error.',
    )
    .exitOverride((error) => {
      // Help and version are not errors; anything else commander refuses is a usage error.
      const code = error.exitCode === 0 ? 0 : POST_EXIT_CODES.usage;
      out.exit(code);
      throw new CommanderError(code, error.code, error.message);
    })
    .action(async (file: string, options: PostCommandOptions) => runPost(file, options, out));
  if (io.stdout || io.stderr) {
    command.configureOutput({
      writeOut: (text) => void out.stdout.write(text),
      writeErr: (text) => void out.stderr.write(text),
    });
  }
  return command;
}

async function runPost(file: string, options: PostCommandOptions, io: PostCommandIo): Promise<void> {
  const stop = new AbortController();
  const requestStop = () => {
    if (stop.signal.aborted) return false;
    stop.abort();
    io.stderr.write('stopping: waiting for the rows in flight (Ctrl-C again to quit at once)\n');
    return true;
  };
  // First Ctrl-C: finish the rows in flight and record them; second: leave now (they are posted again next run).
  const unsubscribe = io.onInterrupt(() => {
    if (!requestStop()) io.exit(POST_EXIT_CODES.interrupted);
  });
  void io.stopRequested?.().then(requestStop);
  const progress = createProgressDisplay(io.stderr);
  try {
    const result = await postModificationFile({
      file,
      url: options.url,
      concurrency: options.concurrency,
      retries: options.retries,
      timeoutMs: options.timeout * 1000,
      resultsPath: options.results,
      repostFailed: options.repostFailed ?? false,
      signal: stop.signal,
      onProgress: (counts) => progress.update(counts),
      ...(io.sleep ? { sleep: io.sleep } : {}),
    });
    progress.stop();
    if (!result.ok) {
      io.stderr.write(`txedit post: ${result.reason}\n`);
      io.setExitCode(POST_EXIT_CODES.usage);
      return;
    }
    report(result.summary, options.json ?? false, io);
    io.setExitCode(exitCodeFor(result.summary));
  } catch (error) {
    progress.stop();
    io.stderr.write(`txedit post: ${(error as { message?: unknown })?.message ?? String(error)}\n`);
    io.setExitCode(POST_EXIT_CODES.usage);
  } finally {
    unsubscribe();
  }
}

/** The one-line summary (or its JSON), and on stderr what to do next when that is not obvious. */
function report(summary: PostSummary, json: boolean, io: PostCommandIo): void {
  if (json) {
    io.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    io.stdout.write(
      `posted ${summary.posted} rows: ${summary.succeeded} succeeded, ${summary.failed} failed, ` +
        `${summary.skipped} skipped (already done) — results in ${summary.resultsPath}\n`,
    );
  }
  if (summary.interrupted) {
    io.stderr.write(`interrupted: ${summary.notPosted} rows not posted; run the same command again to resume\n`);
  }
  if (summary.skippedFailures > 0) {
    const rows = summary.skippedFailures === 1 ? 'row' : 'rows';
    io.stderr.write(
      `${summary.skippedFailures} skipped ${rows} had failed permanently before; --repost-failed posts them again\n`,
    );
  }
}

function exitCodeFor(summary: PostSummary): number {
  if (summary.interrupted) return POST_EXIT_CODES.interrupted;
  return summary.allSucceeded ? POST_EXIT_CODES.allSucceeded : POST_EXIT_CODES.someFailed;
}

function integerIn(min: number, max: number) {
  return (text: string): number => {
    const value = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
    if (!(value >= min && value <= max))
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    return value;
  };
}

function positiveSeconds(text: string): number {
  const value = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : NaN;
  if (!(value > 0 && value <= 3600))
    throw new InvalidArgumentError('expected a number of seconds, more than 0 and at most 3600.');
  return value;
}
