import path from 'node:path';
import { Client } from 'ssh2';
import { testEngines } from '../support/databases';
import { useTestServer } from '../support/test-server';
import { intakeScene, temporaryIntakeDir } from './intake-helpers';

const files = temporaryIntakeDir();
afterAll(() => files.remove());

/**
 * What OpenSSH's `sftp` does at `bye` (and at the end of a `-b` script): it sends EOF on the subsystem's
 * channel and waits for the server to close it. Resolves with how the channel ended.
 */
function sftpSubsystemEndedByEof(port: number, username: string, password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once('error', reject);
    client.once('ready', () =>
      client.subsys('sftp', (error, channel) => {
        if (error) return reject(error);
        channel.on('data', () => undefined);
        channel.once('close', () => {
          client.end();
          resolve('closed by the server');
        });
        // SSH_FXP_INIT (version 3), then EOF as OpenSSH sends it on `bye`.
        channel.write(Buffer.from([0, 0, 0, 5, 1, 0, 0, 0, 3]));
        setImmediate(() => channel.end());
      }),
    );
    client.connect({ host: '127.0.0.1', port, username, password, readyTimeout: 10_000 });
  });
}

describe.each(testEngines())('SFTP intake session end, on %s', (engine) => {
  const context = useTestServer(engine, {
    INTAKE_DIR: path.join(files.dir, engine),
    INTAKE_HOST: '127.0.0.1',
    SFTP_PORT: '0',
  });
  const services = () => context.server.services;

  it('closes the channel when the client ends its input, so `sftp -b` scripts finish', async () => {
    const port = (await services().intakeServers.start()).sftp ?? 0;
    const { credentials } = await intakeScene(services(), context.server.baseUrl);
    const { username, password } = await credentials();
    await expect(sftpSubsystemEndedByEof(port, username, password)).resolves.toBe('closed by the server');
  });
});
