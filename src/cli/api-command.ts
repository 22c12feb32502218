import { promises as fs } from 'node:fs';
import type { Command } from 'commander';
import { AdminApiClient, DEFAULT_SERVER_URL } from './api-client';
import { CliError, CliIo } from './cli-io';

/** Options every admin-API command takes. */
export interface ApiOptions {
  url?: string;
  tokenFile?: string;
  json?: boolean;
}

/** Adds --url, --token-file and --json to a command that talks to the admin API. */
export function withApiOptions(command: Command): Command {
  return command
    .option('--url <url>', `server to talk to (default: $TXEDIT_URL or ${DEFAULT_SERVER_URL})`)
    .option('--token-file <path>', 'read the admin token from this file (default: $ADMIN_TOKEN)')
    .option('--json', 'print JSON instead of text');
}

/**
 * The admin API client for a command. The token comes from ADMIN_TOKEN or a file, never from a flag
 * value: flags end up in shell history and process listings.
 */
export async function clientFor(options: ApiOptions, io: CliIo): Promise<AdminApiClient> {
  let token = io.env.ADMIN_TOKEN ?? '';
  if (options.tokenFile) {
    try {
      token = (await fs.readFile(options.tokenFile, 'utf8')).trim();
    } catch (error) {
      throw new CliError(
        `cannot read --token-file ${options.tokenFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        2,
      );
    }
    if (token === '') throw new CliError(`--token-file ${options.tokenFile} is empty`, 2);
  }
  if (token === '')
    throw new CliError('no admin token: set ADMIN_TOKEN in the environment or pass --token-file PATH', 2);
  return new AdminApiClient(options.url ?? io.env.TXEDIT_URL ?? DEFAULT_SERVER_URL, token);
}

/** Prints a result: JSON with --json, otherwise the human text. */
export function print(io: CliIo, options: { json?: boolean }, value: unknown, human: () => string): void {
  io.stdout.write(options.json ? `${JSON.stringify(value, null, 2)}\n` : human());
}

/** A positive whole-number argument (an id), or a usage error naming it. */
export function positiveId(name: string) {
  return (text: string): number => {
    if (!/^\d{1,15}$/.test(text.trim()) || Number(text) < 1)
      throw new CliError(`${name} must be a positive whole number, not ${JSON.stringify(text)}`, 2);
    return Number(text);
  };
}
