import type { Command } from 'commander';
import { postingUrls } from '../../console/posting-urls';
import { clientFor, positiveId, print, withApiOptions, type ApiOptions } from '../api-command';
import { CliError, type CliIo } from '../cli-io';
import { facts, table } from '../format';
import { readNewPassword } from '../password-prompt';

/** A campaign as the admin API returns it. */
interface CampaignJson {
  id: number;
  name: string;
  allowExternalModification: boolean;
  hasPassword: boolean;
  whitelistOnly: boolean;
  uniqueMerchantReference: boolean;
  createdAt: string;
  updatedAt: string;
}

interface WhitelistJson {
  id: number;
  address: string;
  campaignId: number | null;
  note: string | null;
}

const SETTINGS_HEADERS = ['CID', 'NAME', 'OPTED IN', 'PASSWORD', 'WHITELIST ONLY', 'UNIQUE MERCHANT REF'];
const settingsRow = (c: CampaignJson) => [
  c.id,
  c.name,
  c.allowExternalModification,
  c.hasPassword,
  c.whitelistOnly,
  c.uniqueMerchantReference,
];

/** `txedit campaigns …`: list, show, set flags, set the password. */
export function registerCampaigns(program: Command, io: CliIo): void {
  const campaigns = program
    .command('campaigns')
    .description('campaigns and their Transaction Modification API settings');

  withApiOptions(campaigns.command('list').description('list campaigns (first 200), optionally matching a name or CID'))
    .option('--search <text>', 'part of the name, or a CID')
    .action(async (options: ApiOptions & { search?: string }) => {
      const client = await clientFor(options, io);
      const list = await client.json<CampaignJson[]>('GET', '/campaigns', { query: { search: options.search } });
      print(io, options, list, () => (list.length ? table(SETTINGS_HEADERS, list.map(settingsRow)) : 'no campaigns\n'));
    });

  withApiOptions(
    campaigns.command('show').description('show a campaign: settings, white-list entries and posting URLs'),
  )
    .argument('<cid>', 'campaign id', positiveId('cid'))
    .action(async (cid: number, options: ApiOptions) => {
      const client = await clientFor(options, io);
      const campaign = await client.json<CampaignJson>('GET', `/campaigns/${cid}`);
      const whitelist = await client.json<WhitelistJson[]>('GET', '/whitelist', { query: { campaignId: cid } });
      const urls = postingUrls(client.serverOrigin, campaign);
      print(io, options, { ...campaign, whitelist, postingUrls: urls }, () => {
        const settings = facts([
          ['CID', campaign.id],
          ['Name', campaign.name],
          ['Allow external modifications', campaign.allowExternalModification],
          ['Password set', campaign.hasPassword],
          ['White-listed IPs only', campaign.whitelistOnly],
          ['Unique merchant reference', campaign.uniqueMerchantReference],
          ['White-list entries', whitelist.length ? whitelist.map((e) => e.address).join(', ') : null],
          ['Updated', campaign.updatedAt],
        ]);
        const lines = urls.map((u) => `  ${u.label}${u.usable ? '' : ` (${u.reason})`}\n    ${u.url}\n`).join('');
        return `${settings}\nPosting URLs:\n${lines}`;
      });
    });

  withApiOptions(campaigns.command('set').description('change a campaign’s settings'))
    .argument('<cid>', 'campaign id', positiveId('cid'))
    .option('--allow-external-modification', 'allow external transaction modifications (opt in)')
    .option('--no-allow-external-modification', 'refuse external transaction modifications')
    .option('--whitelist-only', 'only allow modifications from white-listed IPs')
    .option('--no-whitelist-only', 'allow modifications from any IP (with the password)')
    .option('--unique-merchant-reference', 'enforce unique merchant reference ids (enables Merchantreferenceid+CID)')
    .option('--no-unique-merchant-reference', 'stop enforcing unique merchant reference ids')
    .option('--name <name>', 'rename the campaign')
    .action(
      async (
        cid: number,
        options: ApiOptions & {
          allowExternalModification?: boolean;
          whitelistOnly?: boolean;
          uniqueMerchantReference?: boolean;
          name?: string;
        },
      ) => {
        const changes = Object.fromEntries(
          Object.entries({
            name: options.name,
            allowExternalModification: options.allowExternalModification,
            whitelistOnly: options.whitelistOnly,
            uniqueMerchantReference: options.uniqueMerchantReference,
          }).filter(([, value]) => value !== undefined),
        );
        if (Object.keys(changes).length === 0) {
          throw new CliError(
            'nothing to change: give --[no-]allow-external-modification, --[no-]whitelist-only, --[no-]unique-merchant-reference or --name',
            2,
          );
        }
        const client = await clientFor(options, io);
        const campaign = await client.json<CampaignJson>('PATCH', `/campaigns/${cid}`, { json: changes });
        print(io, options, campaign, () => table(SETTINGS_HEADERS, [settingsRow(campaign)]));
      },
    );

  withApiOptions(
    campaigns
      .command('set-password')
      .description('set or rotate a campaign’s password (asked twice, or one line on stdin)'),
  )
    .argument('<cid>', 'campaign id', positiveId('cid'))
    .option('--stdin', 'read the password from the first line of stdin (default when stdin is not a terminal)')
    .addHelpText(
      'after',
      '\nThe password is never a command-line argument (it would land in shell history). Example:\n  printf %s "$NEW_PASSWORD" | txedit campaigns set-password 100 --stdin',
    )
    .action(async (cid: number, options: ApiOptions & { stdin?: boolean }) => {
      const client = await clientFor(options, io);
      await client.json<CampaignJson>('GET', `/campaigns/${cid}`);
      const password = await readNewPassword(io, { fromStdin: options.stdin ?? false });
      const campaign = await client.json<CampaignJson>('PATCH', `/campaigns/${cid}`, { json: { password } });
      print(io, options, campaign, () => `password set for campaign ${campaign.id}; it is not shown again\n`);
    });
}
