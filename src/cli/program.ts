import { appVersion } from '../app-version';
import { Command } from 'commander';
import type { CliIo } from './cli-io';
import { registerApiAccounts } from './commands/api-accounts';
import { registerBatches } from './commands/batches';
import { registerCampaigns } from './commands/campaigns';
import { registerEventTypes } from './commands/event-types';
import { registerIntake } from './commands/intake';
import { registerMigrate } from './commands/migrate';
import { registerPost } from './commands/post';
import { registerPostbacks } from './commands/postbacks';
import { registerProcessing } from './commands/processing';
import { registerServe } from './commands/serve';
import { registerTransactions } from './commands/transactions';
import { registerWhitelist } from './commands/whitelist';
import { registerWorker } from './commands/worker';

/** Every command as `txedit a b <args>  description`, for the root help. */
function commandTree(program: Command): string {
  const lines: Array<[string, string]> = [];
  const walk = (command: Command, prefix: string) => {
    for (const sub of command.commands) {
      const name = `${prefix} ${sub.name()}`;
      if (sub.commands.length > 0) walk(sub, name);
      else
        lines.push([
          `${name}${sub.registeredArguments.map((a) => (a.required ? ` <${a.name()}>` : ` [${a.name()}]`)).join('')}`,
          sub.description(),
        ]);
    }
  };
  walk(program, 'txedit');
  const width = Math.max(...lines.map(([usage]) => usage.length));
  return lines.map(([usage, description]) => `  ${usage.padEnd(width)}  ${description}`).join('\n');
}

/** Builds the `txedit` program over the given io; `setExitCode` receives non-error exit statuses (post). */
export function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('txedit');
  program
    .description('txedit: LinkTrust-compatible transaction modification service — admin CLI')
    .version(appVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
      // Commander's errors become one line: "txedit: unknown command 'x' (Did you mean …?)".
      outputError: (text, write) =>
        write(
          `txedit: ${text
            .replace(/^error:\s*/, '')
            .replace(/\s*\n\s*/g, ' ')
            .trim()}\n`,
        ),
    });

  registerCampaigns(program, io);
  registerEventTypes(program, io);
  registerWhitelist(program, io);
  registerTransactions(program, io);
  registerPostbacks(program, io);
  registerBatches(program, io);
  registerApiAccounts(program, io);
  registerIntake(program, io);
  registerProcessing(program, io);
  registerPost(program, io, setExitCode);
  registerWorker(program, io);
  registerMigrate(program, io);
  registerServe(program);

  program.addHelpText(
    'after',
    () =>
      `\nAll commands (each has --help):\n${commandTree(program)}\n\n` +
      'Admin commands talk to a running server: --url or TXEDIT_URL (default http://127.0.0.1:8080), with the\n' +
      'token from ADMIN_TOKEN or --token-file. worker, migrate and serve use the server configuration\n' +
      '(DATABASE_URL…) from the environment and .env. Errors: one line on stderr, exit status 1 (2: usage).',
  );
  return program;
}
