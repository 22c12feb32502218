import type { Command } from 'commander';
import { clientFor, positiveId, print, withApiOptions, type ApiOptions } from '../api-command';
import { CliError, type CliIo } from '../cli-io';
import { facts, table } from '../format';

interface Values {
  affiliatePayout: string;
  merchantRevenue: string;
  approved: boolean;
}

interface TransactionJson extends Values {
  id: number;
  campaignId: number;
  affiliateId: number;
  clickId: string;
  merchantReferenceId: string | null;
  subId: string | null;
  affiliateReferenceId: string | null;
  occurredAt: string;
  updatedAt: string;
  modifications?: Array<{
    id: number;
    at: string;
    identifier: string;
    source: string;
    clientIp: string | null;
    requestId: string | null;
    reason: string | null;
    postback: string;
    before: Values;
    after: Values;
  }>;
}

const arrow = (before: string, after: string) => (before === after ? after : `${before} -> ${after}`);
const yesNo = (value: boolean) => (value ? 'yes' : 'no');

function describe(t: TransactionJson): string {
  const summary = facts([
    ['Transaction ID', t.id],
    ['Click ID', t.clickId],
    ['Campaign (CID)', t.campaignId],
    ['Affiliate (AFID)', t.affiliateId],
    ['Merchant reference', t.merchantReferenceId],
    ['Affiliate payout (AP)', t.affiliatePayout],
    ['Merchant revenue (MP)', t.merchantRevenue],
    ['Approved (A)', t.approved],
    ['Occurred', t.occurredAt],
  ]);
  const history = t.modifications ?? [];
  if (history.length === 0) return `${summary}\nNo modifications.\n`;
  const rows = history.map((m) => [
    m.at,
    `${m.source} by ${m.identifier}`,
    m.clientIp,
    arrow(m.before.affiliatePayout, m.after.affiliatePayout),
    arrow(m.before.merchantRevenue, m.after.merchantRevenue),
    arrow(yesNo(m.before.approved), yesNo(m.after.approved)),
    m.postback,
    m.reason,
  ]);
  return `${summary}\nHistory (oldest first):\n${table(['WHEN', 'SOURCE', 'CLIENT IP', 'AP', 'MP', 'A', 'POSTBACK', 'REASON'], rows)}`;
}

/** `txedit transactions …`: show one with its history; find by click id or merchant reference. */
export function registerTransactions(program: Command, io: CliIo): void {
  const transactions = program.command('transactions').description('transactions and their modification history');

  withApiOptions(transactions.command('show').description('show a transaction and its full modification history'))
    .argument('<id>', 'transaction id', positiveId('id'))
    .action(async (id: number, options: ApiOptions) => {
      const client = await clientFor(options, io);
      const transaction = await client.json<TransactionJson>('GET', `/transactions/${id}`);
      print(io, options, transaction, () => describe(transaction));
    });

  withApiOptions(
    transactions.command('find').description('find transactions by click id, or by merchant reference id and campaign'),
  )
    .option('--click-id <id>', 'the click id')
    .option('--merchant-ref <ref>', 'the merchant reference id (needs --campaign)')
    .option('--campaign <cid>', 'the campaign of the merchant reference', positiveId('--campaign'))
    .action(async (options: ApiOptions & { clickId?: string; merchantRef?: string; campaign?: number }) => {
      if ((options.clickId === undefined) === (options.merchantRef === undefined))
        throw new CliError('give either --click-id, or --merchant-ref with --campaign', 2);
      if (options.merchantRef !== undefined && options.campaign === undefined)
        throw new CliError('--merchant-ref needs --campaign', 2);
      const client = await clientFor(options, io);
      const query =
        options.clickId !== undefined
          ? { clickId: options.clickId }
          : { merchantReferenceId: options.merchantRef, campaignId: options.campaign };
      const found = await client.json<TransactionJson[]>('GET', '/transactions', { query });
      print(io, options, found, () =>
        found.length
          ? table(
              ['ID', 'CLICK ID', 'CID', 'MERCHANT REF', 'AP', 'MP', 'A', 'OCCURRED'],
              found.map((t) => [
                t.id,
                t.clickId,
                t.campaignId,
                t.merchantReferenceId,
                t.affiliatePayout,
                t.merchantRevenue,
                t.approved,
                t.occurredAt,
              ]),
            )
          : 'no transaction matches\n',
      );
    });
}
