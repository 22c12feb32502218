import type { Command } from 'commander';
import { registerPostCommand } from '../../batch/lead-poster/command';
import type { CliIo } from '../cli-io';

/**
 * `txedit post FILE --url URL`: the Lead Poster (src/batch/lead-poster/command.ts) registered on this
 * program with the CLI's streams, exit and signals, so tests can run it in-process too.
 */
export function registerPost(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  registerPostCommand(program, {
    stdout: io.stdout,
    stderr: io.stderr,
    exit: (code) => io.exit(code),
    setExitCode,
    onInterrupt: (listener) => io.onSignal(() => listener()),
  });
}
