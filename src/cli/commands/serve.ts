import type { Command } from 'commander';

/** `txedit serve`: the server, exactly as `npm start` runs it (config from the environment and .env). */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('start the server (as npm start does): migrations, then HTTP on PORT, until SIGTERM')
    .action(async () => {
      // The server module starts on load and owns the process from then on (signals, exit).
      await import('../../server');
      await new Promise<never>(() => undefined);
    });
}
