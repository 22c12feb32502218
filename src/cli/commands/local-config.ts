import { ConfigError, loadConfig, type Config } from '../../config';
import { CliError } from '../cli-io';

/** The server's configuration from the environment (DATABASE_URL…), or a one-line usage error. */
export function configFrom(env: Record<string, string | undefined>): Readonly<Config> {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}

/** Where a database config points, without its password. */
export function describeDatabase(config: Config['database']): string {
  if (config.client === 'sqlite') return `sqlite:${config.filename}`;
  const url = new URL(config.url);
  if (url.password) url.password = '***';
  return url.toString();
}
