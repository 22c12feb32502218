import type { Command } from 'commander';
import { clientFor, positiveId, print, withApiOptions, type ApiOptions } from '../api-command';
import { CliError, type CliIo } from '../cli-io';
import { facts, table } from '../format';

/** An event type as the admin API returns it. */
interface EventTypeJson {
  id: number;
  campaignId: number;
  name: string;
  lockingDays: number;
  payout: { type: 'percent' | 'fixed'; value: string };
  dispositionCodes: Array<{ code: string; effect: string }>;
  createdAt: string;
  updatedAt: string;
}

/** Options that set an event type's settings (create and update). */
interface SettingsOptions extends ApiOptions {
  name?: string;
  lockingDays?: number;
  percent?: string;
  fixed?: string;
  code?: Array<{ code: string; effect: string }>;
}

const HEADERS = ['ID', 'CID', 'NAME', 'LOCKING DAYS', 'PAYOUT', 'CUSTOM CODES'];
const payoutText = (p: EventTypeJson['payout']) => (p.type === 'percent' ? `${p.value} %` : `${p.value} fixed`);
const codesText = (e: EventTypeJson) => e.dispositionCodes.map((c) => `${c.code} ${c.effect}`).join(', ');
const row = (e: EventTypeJson) => [e.id, e.campaignId, e.name, e.lockingDays, payoutText(e.payout), codesText(e)];

/** `--code CODE=effect`, repeatable: collects the list. */
function collectCode(text: string, list: Array<{ code: string; effect: string }> = []) {
  const match = /^([^=]*)=(.*)$/.exec(text);
  if (!match)
    throw new CliError(`--code must be CODE=effect (modify, reverse or approve), not ${JSON.stringify(text)}`, 2);
  return [...list, { code: match[1], effect: match[2] }];
}

function lockingDays(text: string): number {
  if (!/^\d{1,4}$/.test(text.trim()))
    throw new CliError(`--locking-days must be a whole number, not ${JSON.stringify(text)}`, 2);
  return Number(text);
}

/** The settings the options give; the API checks the values (codes, ranges) and answers in one line. */
function settingsFrom(options: SettingsOptions & { codes?: boolean }): Record<string, unknown> {
  if (options.percent !== undefined && options.fixed !== undefined)
    throw new CliError('give --percent or --fixed, not both', 2);
  if (options.code !== undefined && options.codes === false)
    throw new CliError('give --code or --no-codes, not both', 2);
  const payout =
    options.percent !== undefined
      ? { type: 'percent', value: options.percent }
      : options.fixed !== undefined
        ? { type: 'fixed', value: options.fixed }
        : undefined;
  return Object.fromEntries(
    Object.entries({
      name: options.name,
      lockingDays: options.lockingDays,
      payout,
      dispositionCodes: options.codes === false ? [] : options.code,
    }).filter(([, value]) => value !== undefined),
  );
}

function withSettingsOptions(command: Command): Command {
  return command
    .option('--name <name>', 'the event type’s name')
    .option('--locking-days <days>', 'days after the action before it locks (0–730; default 30)', lockingDays)
    .option('--percent <value>', 'payout: this percent of the amount, e.g. 12.5')
    .option('--fixed <value>', 'payout: a fixed amount, e.g. 5.00 (unchanged by modifications)')
    .option(
      '--code <code=effect>',
      'a custom disposition code and its effect (modify, reverse, approve); repeat',
      collectCode,
    );
}

function describeEventType(e: EventTypeJson): string {
  return facts([
    ['Event type (ActionTrackerId)', e.id],
    ['Campaign (CID)', e.campaignId],
    ['Name', e.name],
    ['Locking days', e.lockingDays],
    ['Payout', payoutText(e.payout)],
    ['Custom codes', codesText(e)],
    ['Created', e.createdAt],
    ['Updated', e.updatedAt],
  ]);
}

/** `txedit event-types …`: list, show, create, update impact.com event types. */
export function registerEventTypes(program: Command, io: CliIo): void {
  const eventTypes = program
    .command('event-types')
    .description('impact.com event types (ActionTrackerIds): payout rule, locking period, custom codes');

  withApiOptions(eventTypes.command('list').description('list event types, optionally of one campaign'))
    .option('--campaign <cid>', 'only this campaign’s event types', positiveId('--campaign'))
    .action(async (options: ApiOptions & { campaign?: number }) => {
      const client = await clientFor(options, io);
      const list = await client.json<EventTypeJson[]>('GET', '/event-types', {
        query: { campaignId: options.campaign },
      });
      print(io, options, list, () => (list.length ? table(HEADERS, list.map(row)) : 'no event types\n'));
    });

  withApiOptions(eventTypes.command('show').description('show an event type'))
    .argument('<id>', 'event type id (ActionTrackerId)', positiveId('id'))
    .action(async (id: number, options: ApiOptions) => {
      const client = await clientFor(options, io);
      const eventType = await client.json<EventTypeJson>('GET', `/event-types/${id}`);
      print(io, options, eventType, () => describeEventType(eventType));
    });

  withApiOptions(withSettingsOptions(eventTypes.command('create').description('create an event type')))
    .requiredOption('--campaign <cid>', 'the campaign it belongs to', positiveId('--campaign'))
    .option(
      '--id <id>',
      'keep this id (the ActionTrackerId brands already use); default: the next free one',
      positiveId('--id'),
    )
    .action(async (options: SettingsOptions & { campaign: number; id?: number }) => {
      const settings = settingsFrom(options);
      if (settings.name === undefined) throw new CliError('give --name', 2);
      if (settings.payout === undefined) throw new CliError('give --percent or --fixed', 2);
      const client = await clientFor(options, io);
      const created = await client.json<EventTypeJson>('POST', '/event-types', {
        json: { ...(options.id !== undefined ? { id: options.id } : {}), campaignId: options.campaign, ...settings },
      });
      print(io, options, created, () => `created event type ${created.id}\n${describeEventType(created)}`);
    });

  withApiOptions(
    withSettingsOptions(
      eventTypes.command('update').description('change an event type (--code replaces the whole list of codes)'),
    ),
  )
    .argument('<id>', 'event type id (ActionTrackerId)', positiveId('id'))
    .option('--no-codes', 'remove every custom code')
    .action(async (id: number, options: SettingsOptions & { codes?: boolean }) => {
      const changes = settingsFrom(options);
      if (Object.keys(changes).length === 0)
        throw new CliError(
          'nothing to change: give --name, --locking-days, --percent, --fixed, --code or --no-codes',
          2,
        );
      const client = await clientFor(options, io);
      const updated = await client.json<EventTypeJson>('PATCH', `/event-types/${id}`, { json: changes });
      print(io, options, updated, () => describeEventType(updated));
    });
}
