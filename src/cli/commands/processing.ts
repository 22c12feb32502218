import type { Command } from 'commander';
import { isReportingDate } from '../../processing/reporting-calendar';
import { clientFor, print, withApiOptions, type ApiOptions } from '../api-command';
import { CliError, type CliIo } from '../cli-io';
import { facts } from '../format';

interface StatusJson {
  nightly: {
    inProgress: boolean;
    startedAt: string | null;
    lastCompletedAt: string | null;
    held?: boolean;
    run?: { date: string; leaseExpiresAt: string | null; live: boolean } | null;
    interruptions?: number;
  };
  hourly: { rolledUpThrough: string | null; lastRunAt: string | null };
}

interface NightlyJson {
  date: string;
  timeZone: string;
  dailyRows: number;
  failedGroups?: Array<{ date: string; campaignId: number; reason: string }>;
  consistency: { ok: boolean; differences: unknown[] };
}

const describeStatus = (s: StatusJson) =>
  facts([
    ['Rolled up through', s.hourly.rolledUpThrough],
    ['Last roll-up', s.hourly.lastRunAt],
    ['Nightly in progress', s.nightly.inProgress],
    ['Nightly started', s.nightly.startedAt],
    ['Nightly last completed', s.nightly.lastCompletedAt],
    ['Nightly held by hand', s.nightly.held],
    [
      'Nightly run',
      s.nightly.run &&
        `${s.nightly.run.date}, lease ${s.nightly.run.live ? 'until' : 'expired at'} ${s.nightly.run.leaseExpiresAt}`,
    ],
    ['Interrupted runs', s.nightly.interruptions],
  ]);

function isoInstant(text: string): string {
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(text) ||
    Number.isNaN(Date.parse(text))
  ) {
    throw new CliError(
      `--through must be an ISO 8601 date-time with a zone, e.g. 2026-11-25T10:00:00Z (got ${JSON.stringify(text)})`,
      2,
    );
  }
  return text;
}

function isoDate(text: string): string {
  if (!isReportingDate(text)) throw new CliError(`--date must be YYYY-MM-DD (got ${JSON.stringify(text)})`, 2);
  return text;
}

function addRollup(parent: Command, name: string, io: CliIo): void {
  withApiOptions(
    parent
      .command(name)
      .description(
        'roll complete hours up into the hourly statistics (through the start of the current hour by default)',
      ),
  )
    .option(
      '--through <iso>',
      'roll up through this instant (rounded down to its hour; never past the current hour)',
      isoInstant,
    )
    .action(async (options: ApiOptions & { through?: string }) => {
      const client = await clientFor(options, io);
      const result = await client.json<{ from: string | null; through: string | null }>(
        'POST',
        '/processing/hourly/run',
        { json: options.through ? { through: options.through } : {} },
      );
      print(io, options, result, () => `rolled up through ${result.through ?? '-'} (was ${result.from ?? 'never'})\n`);
    });
}

function addNightly(parent: Command, name: string, io: CliIo): void {
  withApiOptions(
    parent
      .command(name)
      .description('run nightly processing for a day (the previous one in REPORTING_TIMEZONE by default)'),
  )
    .option('--date <YYYY-MM-DD>', 'the reporting day to process', isoDate)
    .action(async (options: ApiOptions & { date?: string }) => {
      const client = await clientFor(options, io);
      const report = await client.json<NightlyJson>('POST', '/processing/nightly/run', {
        json: options.date ? { date: options.date } : {},
      });
      print(io, options, report, () => {
        const check = report.consistency.ok
          ? 'consistent'
          : `${report.consistency.differences.length} difference(s) between statistics and transactions (see --json)`;
        const failed = (report.failedGroups ?? [])
          .map((group) => `campaign ${group.campaignId} of ${group.date} not computed: ${group.reason}\n`)
          .join('');
        return `nightly processing for ${report.date} (${report.timeZone}) completed: ${report.dailyRows} daily rows; ${check}\n${failed}`;
      });
      if ((report.failedGroups ?? []).length > 0)
        throw new CliError(`nightly processing for ${report.date} could not compute some campaigns' daily statistics`);
      if (!report.consistency.ok)
        throw new CliError(`nightly processing for ${report.date} found statistics that differ from the transactions`);
    });
}

/** `txedit processing …` (and the `rollup`/`nightly` shortcuts): state and runs of the jobs. */
export function registerProcessing(program: Command, io: CliIo): void {
  const processing = program.command('processing').description('hourly roll-up and nightly processing');

  withApiOptions(processing.command('status').description('roll-up watermark and nightly state')).action(
    async (options: ApiOptions) => {
      const client = await clientFor(options, io);
      const status = await client.json<StatusJson>('GET', '/processing');
      print(io, options, status, () => describeStatus(status));
    },
  );
  addRollup(processing, 'rollup', io);
  addNightly(processing, 'nightly', io);
  for (const [name, inProgress, text] of [
    ['hold', true, 'hold the nightly state by hand (every modification is refused until release)'],
    ['release', false, 'release the nightly state held by hand (or left by a run that died)'],
  ] as const) {
    withApiOptions(processing.command(name).description(text)).action(async (options: ApiOptions) => {
      const client = await clientFor(options, io);
      const status = await client.json<StatusJson>('PUT', '/processing/nightly', { json: { inProgress } });
      print(io, options, status, () => describeStatus(status));
    });
  }

  // The processing issue names them `txedit rollup` and `txedit nightly`: both spellings work.
  addRollup(program, 'rollup', io);
  addNightly(program, 'nightly', io);
}
