import type { Command } from 'commander';
import { clientFor, positiveId, print, withApiOptions, type ApiOptions } from '../api-command';
import { CliError, type CliIo } from '../cli-io';
import { facts, table } from '../format';

/** An impact.com API account as the admin API lists it (never its token). */
interface ApiAccountJson {
  accountSid: string;
  name: string;
  campaignIds: number[];
  createdAt: string | number;
  revokedAt: string | number | null;
}

/** What creating an account answers: the SID and the token, shown this once. */
interface CreatedJson {
  accountSid: string;
  authToken: string;
}

const HEADERS = ['ACCOUNT SID', 'NAME', 'CAMPAIGNS', 'CREATED', 'REVOKED'];

/** A time the API gave as ISO text or epoch milliseconds, as ISO text. */
function when(value: string | number | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'number' ? new Date(value).toISOString() : value;
}

const row = (a: ApiAccountJson) => [
  a.accountSid,
  a.name,
  a.campaignIds.join(', '),
  when(a.createdAt),
  when(a.revokedAt),
];

/** `--campaign <cid>`, repeatable: collects the list. */
function collectCampaign(text: string, list: number[] = []): number[] {
  return [...list, positiveId('--campaign')(text)];
}

/** An account SID as impact.com spells them: letters and digits only (it becomes part of a URL path). */
function accountSid(text: string): string {
  const sid = text.trim();
  if (!/^[A-Za-z0-9]{1,64}$/.test(sid))
    throw new CliError(`account SID must be letters and digits, not ${JSON.stringify(text)}`, 2);
  return sid;
}

/** `txedit api-accounts …`: the accounts brands' impact.com API clients sign in as. */
export function registerApiAccounts(program: Command, io: CliIo): void {
  const accounts = program
    .command('api-accounts')
    .description('impact.com API accounts (Basic auth SID:token for /Advertisers/:sid/…)');

  withApiOptions(accounts.command('list').description('list API accounts (tokens are never shown again)')).action(
    async (options: ApiOptions) => {
      const client = await clientFor(options, io);
      const list = await client.json<ApiAccountJson[]>('GET', '/api-accounts');
      print(io, options, list, () => (list.length ? table(HEADERS, list.map(row)) : 'no API accounts\n'));
    },
  );

  withApiOptions(
    accounts.command('create').description('create an API account for campaigns; prints its token this once'),
  )
    .requiredOption('--name <name>', 'whose account this is (the brand or its integration)')
    .requiredOption('--campaign <cid>', 'a campaign whose actions the account may modify; repeat', collectCampaign)
    .action(async (options: ApiOptions & { name: string; campaign: number[] }) => {
      const client = await clientFor(options, io);
      const created = await client.json<CreatedJson>('POST', '/api-accounts', {
        json: { name: options.name, campaignIds: options.campaign },
      });
      print(
        io,
        options,
        created,
        () =>
          facts([
            ['Account SID', created.accountSid],
            ['Auth token', created.authToken],
          ]) + 'The token is shown only now: store it where the brand’s API client reads it.\n',
      );
    });

  withApiOptions(accounts.command('revoke').description('revoke an API account: its token stops working'))
    .argument('<accountSid>', 'the account’s SID (see api-accounts list)', accountSid)
    .action(async (sid: string, options: ApiOptions) => {
      const client = await clientFor(options, io);
      await client.json('DELETE', `/api-accounts/${encodeURIComponent(sid)}`);
      print(io, options, { revoked: sid }, () => `revoked API account ${sid}\n`);
    });
}
