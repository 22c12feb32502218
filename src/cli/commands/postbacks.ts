import type { Command } from 'commander';
import { clientFor, positiveId, print, withApiOptions, type ApiOptions } from '../api-command';
import { CliError, type CliIo } from '../cli-io';
import { table } from '../format';

interface DeliveryJson {
  id: number;
  postbackId: string;
  transactionId: number;
  status: string;
  attemptCount: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  url: string;
  attempts: Array<{ attempt: number; at: string; httpStatus: number | null; error: string | null; durationMs: number }>;
}

const STATUSES = ['pending', 'delivered', 'failed'];

/** `txedit postbacks …`: list deliveries with their attempts; retry a failed one. */
export function registerPostbacks(program: Command, io: CliIo): void {
  const postbacks = program
    .command('postbacks')
    .description('affiliate postback deliveries (executeaffiliatepixel=Yes)');

  withApiOptions(postbacks.command('list').description('list deliveries, newest first (200 at most)'))
    .option('--transaction <id>', 'only this transaction’s', positiveId('--transaction'))
    .option('--status <status>', `only those ${STATUSES.join(', ')}`)
    .action(async (options: ApiOptions & { transaction?: number; status?: string }) => {
      if (options.status !== undefined && !STATUSES.includes(options.status))
        throw new CliError(`--status must be one of ${STATUSES.join(', ')}`, 2);
      const client = await clientFor(options, io);
      const list = await client.json<DeliveryJson[]>('GET', '/postbacks', {
        query: { transactionId: options.transaction, status: options.status },
      });
      print(io, options, list, () =>
        list.length
          ? table(
              ['ID', 'TRANSACTION', 'STATUS', 'ATTEMPTS', 'LAST RESULT', 'NEXT ATTEMPT', 'URL'],
              list.map((d) => {
                const last = d.attempts[d.attempts.length - 1];
                return [
                  d.id,
                  d.transactionId,
                  d.status,
                  d.attemptCount,
                  last ? (last.httpStatus !== null ? `HTTP ${last.httpStatus}` : last.error) : null,
                  d.nextAttemptAt,
                  d.url,
                ];
              }),
            )
          : 'no postback deliveries\n',
      );
    });

  withApiOptions(postbacks.command('retry').description('queue a failed delivery again'))
    .argument('<id>', 'delivery id (see postbacks list)', positiveId('id'))
    .action(async (id: number, options: ApiOptions) => {
      const client = await clientFor(options, io);
      const delivery = await client.json<DeliveryJson>('POST', `/postbacks/${id}/retry`);
      print(io, options, delivery, () => `postback ${delivery.id} queued again (status ${delivery.status})\n`);
    });
}
