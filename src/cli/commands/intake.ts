import type { Command } from 'commander';
import { clientFor, positiveId, print, withApiOptions, type ApiOptions } from '../api-command';
import { CliError, type CliIo } from '../cli-io';
import { facts } from '../format';
import { readNewPassword } from '../password-prompt';

/** A campaign's intake as the admin API returns it. */
interface IntakeJson {
  campaignId: number;
  upload: boolean;
  email: boolean;
  emailAddress: string | null;
  pull: { protocol: string; host: string; port: number; directory: string; username: string } | null;
  lastPull: { at: string; taken: number; error: string | null } | null;
  users: Array<{ username: string; createdAt: string; revokedAt: string | null }>;
}

interface PullJson {
  at: string;
  taken: Array<{ name: string; batchId: number | null; error: string | null }>;
  error: string | null;
}

function describeIntake(i: IntakeJson): string {
  const pull = i.pull
    ? `${i.pull.protocol}://${i.pull.username}@${i.pull.host}:${i.pull.port}${i.pull.directory}`
    : 'off';
  const last = i.lastPull
    ? `${i.lastPull.at}: ${i.lastPull.error ? `failed: ${i.lastPull.error}` : `took ${i.lastPull.taken} file(s)`}`
    : 'never';
  const users = i.users.map((u) => (u.revokedAt ? `${u.username} (revoked ${u.revokedAt})` : u.username)).join(', ');
  return facts([
    ['Campaign (CID)', i.campaignId],
    ['FTP/SFTP upload', i.upload ? 'on' : 'off'],
    ['Upload users', users || 'none'],
    ['E-mail', i.email ? (i.emailAddress ?? 'on') : 'off'],
    ['Pull', pull],
    ['Last pull', last],
  ]);
}

interface SetOptions extends ApiOptions {
  upload?: boolean;
  email?: boolean;
  pull?: boolean;
  pullProtocol?: string;
  pullHost?: string;
  pullPort?: number;
  pullDirectory?: string;
  pullUsername?: string;
  pullPassword?: boolean;
  stdin?: boolean;
}

/** `txedit intake …`: a campaign's FTP/SFTP users, e-mail address and pull from the brand's server. */
export function registerIntake(program: Command, io: CliIo): void {
  const intake = program
    .command('intake')
    .description('impact.com file intake of a campaign: FTP/SFTP upload users, e-mail address, pull');

  withApiOptions(intake.command('show').description('show a campaign’s intake'))
    .argument('<cid>', 'campaign id', positiveId('cid'))
    .action(async (cid: number, options: ApiOptions) => {
      const client = await clientFor(options, io);
      const shown = await client.json<IntakeJson>('GET', `/campaigns/${cid}/intake`);
      print(io, options, shown, () => describeIntake(shown));
    });

  withApiOptions(intake.command('set').description('change a campaign’s intake (what is not given stays)'))
    .argument('<cid>', 'campaign id', positiveId('cid'))
    .option('--upload', 'take files by FTP/SFTP upload')
    .option('--no-upload', 'stop taking uploads')
    .option('--email', 'take files by e-mail (the campaign gets an address)')
    .option('--no-email', 'stop taking e-mail')
    .option('--no-pull', 'stop pulling from the brand’s server')
    .option('--pull-protocol <protocol>', 'pull over ftp, ftps or sftp')
    .option('--pull-host <host>', 'the brand’s server')
    .option('--pull-port <port>', 'its port (default 21, or 22 for sftp)', positiveId('--pull-port'))
    .option('--pull-directory <dir>', 'the directory to take files from (default /)')
    .option('--pull-username <name>', 'the user to log in as')
    .option('--pull-password', 'set the pull password: asked twice, or one line on stdin')
    .option('--stdin', 'read the pull password from the first line of stdin')
    .action(async (cid: number, options: SetOptions) => {
      const client = await clientFor(options, io);
      const current = await client.json<IntakeJson>('GET', `/campaigns/${cid}/intake`);
      const pullGiven =
        [options.pullProtocol, options.pullHost, options.pullPort, options.pullDirectory, options.pullUsername].some(
          (v) => v !== undefined,
        ) || options.pullPassword === true;
      if (options.pull === false && pullGiven) throw new CliError('give --no-pull or pull settings, not both', 2);
      let pull: Record<string, unknown> | null = current.pull ? { ...current.pull } : null;
      if (options.pull === false) pull = null;
      else if (pullGiven) {
        pull = {
          ...(pull ?? {}),
          ...Object.fromEntries(
            Object.entries({
              protocol: options.pullProtocol,
              host: options.pullHost,
              port: options.pullPort,
              directory: options.pullDirectory,
              username: options.pullUsername,
            }).filter(([, v]) => v !== undefined),
          ),
        };
        if (options.pullPassword) pull.password = await readNewPassword(io, { fromStdin: options.stdin ?? false });
      }
      const updated = await client.json<IntakeJson>('PUT', `/campaigns/${cid}/intake`, {
        json: { upload: options.upload ?? current.upload, email: options.email ?? current.email, pull },
      });
      print(io, options, updated, () => describeIntake(updated));
    });

  const credentials = intake.command('credentials').description('FTP/SFTP upload users of a campaign');
  withApiOptions(credentials.command('create').description('create an upload user; its password is shown once'))
    .argument('<cid>', 'campaign id', positiveId('cid'))
    .option('--username <name>', 'the user name (default: generated)')
    .action(async (cid: number, options: ApiOptions & { username?: string }) => {
      const client = await clientFor(options, io);
      const created = await client.json<{ username: string; password: string }>(
        'POST',
        `/campaigns/${cid}/intake/credentials`,
        { json: options.username === undefined ? {} : { username: options.username } },
      );
      print(io, options, created, () =>
        facts([
          ['Username', created.username],
          ['Password', `${created.password}   (shown this once)`],
        ]),
      );
    });
  withApiOptions(credentials.command('revoke').description('revoke an upload user'))
    .argument('<cid>', 'campaign id', positiveId('cid'))
    .argument('<username>', 'the user name')
    .action(async (cid: number, username: string, options: ApiOptions) => {
      const client = await clientFor(options, io);
      await client.json('DELETE', `/campaigns/${cid}/intake/credentials/${encodeURIComponent(username)}`);
      print(io, options, { revoked: username }, () => `revoked ${username}\n`);
    });

  withApiOptions(intake.command('email-address').description('give the campaign a new address, retiring the old'))
    .argument('<cid>', 'campaign id', positiveId('cid'))
    .action(async (cid: number, options: ApiOptions) => {
      const client = await clientFor(options, io);
      const updated = await client.json<IntakeJson>('POST', `/campaigns/${cid}/intake/email-address`);
      print(io, options, updated, () => `${updated.emailAddress}\n`);
    });

  withApiOptions(intake.command('pull').description('pull from the brand’s server now'))
    .argument('<cid>', 'campaign id', positiveId('cid'))
    .action(async (cid: number, options: ApiOptions) => {
      const client = await clientFor(options, io);
      const result = await client.json<PullJson>('POST', `/campaigns/${cid}/intake/pull`);
      print(io, options, result, () =>
        result.error
          ? `pull failed: ${result.error}\n`
          : result.taken.length === 0
            ? 'nothing new\n'
            : result.taken.map((t) => `${t.name}: ${t.batchId ? `batch ${t.batchId}` : t.error}\n`).join(''),
      );
    });
}
