import type { Command } from 'commander';
import { clientFor, positiveId, print, withApiOptions, type ApiOptions } from '../api-command';
import { CliError, type CliIo } from '../cli-io';
import { table } from '../format';

interface WhitelistJson {
  id: number;
  address: string;
  campaignId: number | null;
  note: string | null;
  createdAt: string;
}

const rows = (list: WhitelistJson[]) =>
  table(
    ['ID', 'ADDRESS', 'CAMPAIGN', 'NOTE', 'ADDED'],
    list.map((e) => [e.id, e.address, e.campaignId ?? 'global', e.note, e.createdAt]),
  );

/** `txedit whitelist …`: list, add, remove white-listed IPs and ranges. */
export function registerWhitelist(program: Command, io: CliIo): void {
  const whitelist = program
    .command('whitelist')
    .description('white-listed IP addresses and CIDR ranges (global or per campaign)');

  withApiOptions(whitelist.command('list').description('list white-list entries'))
    .option('--campaign <cid>', 'only this campaign’s entries', positiveId('--campaign'))
    .option('--global', 'only global entries')
    .action(async (options: ApiOptions & { campaign?: number; global?: boolean }) => {
      if (options.campaign !== undefined && options.global)
        throw new CliError('give --campaign or --global, not both', 2);
      const client = await clientFor(options, io);
      const list = await client.json<WhitelistJson[]>('GET', '/whitelist', {
        query: { campaignId: options.global ? 'global' : options.campaign },
      });
      print(io, options, list, () => (list.length ? rows(list) : 'no entries\n'));
    });

  withApiOptions(whitelist.command('add').description('add an IPv4/IPv6 address or CIDR range'))
    .argument('<address>', 'e.g. 203.0.113.7, 203.0.113.0/24, 2001:db8::/32')
    .option('--campaign <cid>', 'only for this campaign (default: global)', positiveId('--campaign'))
    .option('--note <text>', 'whose address this is')
    .action(async (address: string, options: ApiOptions & { campaign?: number; note?: string }) => {
      const client = await clientFor(options, io);
      const entry = await client.json<WhitelistJson>('POST', '/whitelist', {
        json: { address, campaignId: options.campaign ?? null, note: options.note ?? null },
      });
      print(
        io,
        options,
        entry,
        () =>
          `added entry ${entry.id}: ${entry.address} (${entry.campaignId === null ? 'global' : `campaign ${entry.campaignId}`})\n`,
      );
    });

  withApiOptions(whitelist.command('remove').description('remove a white-list entry by its id'))
    .argument('<id>', 'entry id (see whitelist list)', positiveId('id'))
    .action(async (id: number, options: ApiOptions) => {
      const client = await clientFor(options, io);
      await client.json('DELETE', `/whitelist/${id}`);
      print(io, options, { removed: id }, () => `removed entry ${id}\n`);
    });
}
