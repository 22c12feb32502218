import { CommanderError } from 'commander';
import dotenv from 'dotenv';
import { CliError, type CliIo } from './cli-io';
import { buildProgram } from './program';

/**
 * Runs `txedit` with these arguments (without `node` and the script) and returns the exit status.
 * Every failure ends as one line on stderr: `txedit: …`.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version are not errors; commander has already printed its one line otherwise.
      if (error.exitCode === 0) return 0;
      return error.code === 'commander.help' || error.code === 'commander.helpDisplayed'
        ? 1
        : error.exitCode === 1
          ? 2
          : error.exitCode;
    }
    if (error instanceof CliError) {
      io.stderr.write(`txedit: ${error.message.replace(/\s*\n\s*/g, ' ')}\n`);
      return error.exitCode;
    }
    io.stderr.write(
      `txedit: unexpected error: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`,
    );
    return 1;
  }
}

/** The process's own streams, environment and signals. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    onSignal: (listener) => {
      const onTerm = () => listener('SIGTERM');
      const onInt = () => listener('SIGINT');
      process.on('SIGTERM', onTerm);
      process.on('SIGINT', onInt);
      return () => {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
      };
    },
    exit: (code) => process.exit(code),
  };
}

/** The `txedit` binary: reads .env like the server, runs, and sets the exit status. */
export function main(): void {
  dotenv.config({ quiet: true });
  runCli(process.argv.slice(2), processIo()).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`txedit: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

if (require.main === module) main();
