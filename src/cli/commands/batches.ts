import { promises as fs } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { parseResultsCsv } from '../../batch/results-csv';
import { isImpactResultsCsv, parseImpactResultsCsv } from '../../impact/impact-results-csv';
import type { AdminApiClient } from '../api-client';
import { clientFor, positiveId, print, withApiOptions, type ApiOptions } from '../api-command';
import { CliError, type CliIo } from '../cli-io';
import { facts, table } from '../format';

interface BatchJson {
  id: number;
  filename: string;
  state: 'queued' | 'processing' | 'completed' | 'failed';
  records: number;
  processed: number;
  succeeded: number;
  failed: number;
  duplicateOf: number | null;
  forced: boolean;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

const FINISHED = new Set(['completed', 'failed']);

const listTable = (list: BatchJson[]) =>
  table(
    ['ID', 'FILE', 'STATE', 'RECORDS', 'PROCESSED', 'SUCCEEDED', 'FAILED', 'UPLOADED'],
    list.map((b) => [b.id, b.filename, b.state, b.records, b.processed, b.succeeded, b.failed, b.createdAt]),
  );

function describe(b: BatchJson): string {
  return facts([
    ['Batch', b.id],
    ['File', b.filename],
    ['State', b.state],
    ['Records', b.records],
    ['Processed', b.processed],
    ['Succeeded', b.succeeded],
    ['Failed', b.failed],
    [
      'Duplicate of',
      b.duplicateOf === null
        ? null
        : `batch ${b.duplicateOf}${b.forced ? ' (applied again: --force)' : ' (not applied; upload with --force to apply)'}`,
    ],
    ['Error', b.error],
    ['Uploaded', b.createdAt],
    ['Finished', b.finishedAt],
  ]);
}

/** Polls a batch until it finishes, drawing a progress bar when stderr is a terminal. */
async function waitFor(client: AdminApiClient, batch: BatchJson, io: CliIo): Promise<BatchJson> {
  const bar = io.stderr.isTTY
    ? new cliProgress.SingleBar(
        {
          stream: io.stderr,
          format: 'batch {id} [{bar}] {value}/{total} rows | {state} | ETA {eta_formatted}',
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(Math.max(batch.records, 1), batch.processed, { id: batch.id, state: batch.state });
  let current = batch;
  let stopSignal: string | null = null;
  const unsubscribe = io.onSignal((signal) => {
    stopSignal = signal;
  });
  try {
    while (!FINISHED.has(current.state)) {
      await delay(1000);
      if (stopSignal)
        throw new CliError(
          `stopped waiting (${stopSignal}); batch ${current.id} keeps running on the server: txedit batches status ${current.id}`,
          130,
        );
      current = await client.json<BatchJson>('GET', `/batches/${current.id}`);
      bar?.update(current.processed, { state: current.state });
    }
  } finally {
    unsubscribe();
    bar?.stop();
  }
  return current;
}

/** `txedit batches …`: upload a modification file, follow its status, get its results. */
export function registerBatches(program: Command, io: CliIo): void {
  const batches = program
    .command('batches')
    .description('bulk modification files processed by the server (File Submissions)');

  withApiOptions(
    batches.command('upload').description('upload a tab-delimited TXT or CSV modification file to the server'),
  )
    .argument('<file>', 'the file')
    .option('--force', 'apply it even if the same content was uploaded before')
    .option('--wait', 'wait until every row is processed (a progress bar on a terminal)')
    .action(async (file: string, options: ApiOptions & { force?: boolean; wait?: boolean }) => {
      let bytes: Buffer;
      try {
        bytes = await fs.readFile(file);
      } catch (error) {
        throw new CliError(
          `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
          2,
        );
      }
      const client = await clientFor(options, io);
      const contentType = /\.csv$/i.test(file) ? 'text/csv' : 'text/plain';
      let batch = await client.json<BatchJson>('POST', '/batches', {
        bytes,
        contentType,
        query: { filename: path.basename(file), force: options.force ? 'true' : undefined },
      });
      if (options.wait) batch = await waitFor(client, batch, io);
      print(io, options, batch, () => describe(batch));
      if (options.wait && batch.state === 'failed')
        throw new CliError(`batch ${batch.id} failed: ${batch.error ?? 'see txedit batches status'}`);
    });

  withApiOptions(batches.command('status').description('one batch’s state and counts, or the latest batches'))
    .argument('[id]', 'batch id (default: list the latest)', positiveId('id'))
    .option('--limit <n>', 'how many to list', positiveId('--limit'), 20)
    .action(async (id: number | undefined, options: ApiOptions & { limit: number }) => {
      const client = await clientFor(options, io);
      if (id !== undefined) {
        const batch = await client.json<BatchJson>('GET', `/batches/${id}`);
        print(io, options, batch, () => describe(batch));
        return;
      }
      const list = await client.json<BatchJson[]>('GET', '/batches', { query: { limit: options.limit } });
      print(io, options, list, () => (list.length ? listTable(list) : 'no batches\n'));
    });

  withApiOptions(
    batches.command('results').description('a batch’s results CSV (Row,Succeeded,Message,…) on stdout or into a file'),
  )
    .argument('<id>', 'batch id', positiveId('id'))
    .option('-o, --output <file>', 'write the CSV to this file')
    .action(async (id: number, options: ApiOptions & { output?: string }) => {
      const client = await clientFor(options, io);
      const csv = await client.text('GET', `/batches/${id}/results`);
      // An impact.com batch's results come in impact.com's columns.
      const parseResults = (text: string) =>
        isImpactResultsCsv(text) ? parseImpactResultsCsv(text) : parseResultsCsv(text);
      if (options.output) {
        await fs.writeFile(options.output, csv);
        const rows = parseResults(csv);
        print(
          io,
          options,
          { file: options.output, rows: rows.length },
          () => `wrote ${rows.length} result rows to ${options.output}\n`,
        );
        return;
      }
      if (options.json) io.stdout.write(`${JSON.stringify(parseResults(csv), null, 2)}\n`);
      else io.stdout.write(csv);
    });
}
