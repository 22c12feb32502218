import type { Request, Response, Router } from 'express';
import {
  DISPOSITION_EFFECTS,
  eventTypeProblems,
  MAX_EVENT_TYPE_ID,
  type DispositionCode,
  type DispositionEffect,
  type EventType,
  type PayoutRule,
} from '../../core/event-type';
import { MAX_CAMPAIGN_ID } from '../../core/identifier-limits';
import { formatMoney, parseMoney } from '../../core/money';
import {
  actorOf,
  ConsoleContext,
  field,
  idFrom,
  noticeFor,
  route,
  seeOther,
  sendPage,
  sessionOf,
  problemOf,
} from '../console-context';
import { html } from '../html';
import { eventTypeListView, eventTypeView, EventTypeForm, formOf } from '../views/event-types-view';

const LIST_LIMIT = 1000;
const EMPTY_FORM: EventTypeForm = {
  id: '',
  campaignId: '',
  name: '',
  lockingDays: '30',
  payoutType: 'percent',
  payoutValue: '',
  codes: '',
};

/** The settings a form gives, or the problems with it in the form's own words. */
interface ParsedSettings {
  settings: { name: string; lockingDays: number; payout: PayoutRule; dispositionCodes: DispositionCode[] } | null;
  problems: string[];
}

function formFrom(body: unknown): EventTypeForm {
  return {
    id: field(body, 'id').trim(),
    campaignId: field(body, 'campaignId').trim(),
    name: field(body, 'name').trim(),
    lockingDays: field(body, 'lockingDays').trim(),
    payoutType: field(body, 'payoutType'),
    payoutValue: field(body, 'payoutValue').trim(),
    codes: field(body, 'codes'),
  };
}

/** Reads the settings fields; custom codes as lines `CODE effect`, blank lines skipped. */
function parseSettings(form: EventTypeForm): ParsedSettings {
  const problems: string[] = [];
  if (form.name === '') problems.push('Type a name.');
  else if (form.name.length > 255) problems.push('The name must be at most 255 characters.');
  const lockingDays = /^\d{1,4}$/.test(form.lockingDays) ? Number(form.lockingDays) : null;
  if (lockingDays === null) problems.push('The locking period must be a whole number of days.');
  const payoutType: PayoutRule['type'] | null =
    form.payoutType === 'percent' || form.payoutType === 'fixed' ? form.payoutType : null;
  if (payoutType === null) problems.push('Choose a payout rule: percent or fixed.');
  const payoutValue = parseMoney(form.payoutValue);
  if (payoutValue === null)
    problems.push('The payout value must be a plain decimal such as 12.5 (at most 4 decimals, not negative).');
  const dispositionCodes: DispositionCode[] = [];
  const lineOf: number[] = [];
  form.codes.split(/\r?\n/).forEach((line, index) => {
    const words = line.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) return;
    const effect = words[1]?.toLowerCase() as DispositionEffect;
    if (words.length !== 2 || !DISPOSITION_EFFECTS.includes(effect)) {
      problems.push(
        `Custom codes, line ${index + 1}: write the code, a space and modify, reverse or approve (e.g. “Late_Return reverse”).`,
      );
      return;
    }
    dispositionCodes.push({ code: words[0], effect });
    lineOf.push(index + 1);
  });
  if (problems.length > 0 || lockingDays === null || payoutType === null || payoutValue === null)
    return { settings: null, problems };
  const payout: PayoutRule = { type: payoutType, value: payoutValue };
  const settings = { name: form.name, lockingDays, payout, dispositionCodes };
  for (const problem of eventTypeProblems(settings)) {
    const code = /^dispositionCodes\.(\d+)\./.exec(problem.field);
    const label = code
      ? `Custom codes, line ${lineOf[Number(code[1])]}`
      : problem.field === 'lockingDays'
        ? 'Locking period'
        : problem.field === 'payout.value'
          ? 'Payout value'
          : 'Custom codes';
    problems.push(`${label}: ${problem.message}.`);
  }
  return problems.length ? { settings: null, problems } : { settings, problems };
}

/** An event type's settings for the audit log (amounts as decimal strings: JSON has no bigint). */
function auditSettings(e: Pick<EventType, 'name' | 'lockingDays' | 'payout' | 'dispositionCodes'>) {
  return {
    name: e.name,
    lockingDays: e.lockingDays,
    payout: { type: e.payout.type, value: formatMoney(e.payout.value) },
    dispositionCodes: e.dispositionCodes.map((c) => `${c.code} ${c.effect}`),
  };
}

async function showList(
  req: Request,
  res: Response,
  context: ConsoleContext,
  extra: { form?: EventTypeForm; problems?: string[]; status?: number } = {},
) {
  const campaignFilter = idFrom(req.query.campaignId);
  const eventTypes = await context.eventTypes.list({
    campaignId: campaignFilter !== null && campaignFilter <= MAX_CAMPAIGN_ID ? campaignFilter : undefined,
    limit: LIST_LIMIT,
  });
  const form = extra.form ?? { ...EMPTY_FORM, campaignId: campaignFilter === null ? '' : String(campaignFilter) };
  sendPage(
    req,
    res,
    context,
    {
      title: 'Event types',
      section: 'event-types',
      notice: noticeFor(req),
      problems: extra.problems,
      body: eventTypeListView({ eventTypes, campaignFilter, form, session: sessionOf(res) }),
    },
    extra.status,
  );
}

function showEventType(
  req: Request,
  res: Response,
  context: ConsoleContext,
  eventType: EventType,
  extra: { form?: EventTypeForm; problems?: string[]; status?: number } = {},
) {
  sendPage(
    req,
    res,
    context,
    {
      title: `Event type ${eventType.id}: ${eventType.name}`,
      section: 'event-types',
      notice: noticeFor(req),
      problems: extra.problems,
      body: eventTypeView({ eventType, form: extra.form ?? formOf(eventType), session: sessionOf(res) }),
    },
    extra.status,
  );
}

/** The event type or null (404 page sent). */
async function findEventType(req: Request, res: Response, context: ConsoleContext): Promise<EventType | null> {
  const id = idFrom(req.params.id);
  const eventType = id === null || id > MAX_EVENT_TYPE_ID ? null : await context.eventTypes.get(id);
  if (!eventType) {
    const body = html`<section class="card"><p>There is no event type with this id.</p><p><a href="/admin/event-types">All event types</a></p></section>`;
    sendPage(req, res, context, { title: 'Event type not found', section: 'event-types', body }, 404);
  }
  return eventType;
}

/** Event types (impact ActionTrackerIds): list, create, and per type its settings and custom codes. */
export function eventTypeRoutes(router: Router, context: ConsoleContext): void {
  router.get(
    '/event-types',
    route(async (req, res) => showList(req, res, context)),
  );

  router.post(
    '/event-types',
    route(async (req, res) => {
      const form = formFrom(req.body);
      const { settings, problems } = parseSettings(form);
      const id = form.id === '' ? undefined : idFrom(form.id);
      if (id === null || (id !== undefined && id > MAX_EVENT_TYPE_ID))
        problems.unshift(`The event type ID must be a whole number from 1 to ${MAX_EVENT_TYPE_ID}, or empty.`);
      const campaignId = idFrom(form.campaignId);
      if (campaignId === null || campaignId > MAX_CAMPAIGN_ID) problems.unshift('Type the campaign ID (CID).');
      if (problems.length === 0 && settings && campaignId !== null && id !== null) {
        try {
          const audit = context.audit.within<EventType>(
            actorOf(req, res),
            'event_type.create',
            (created) => `event type ${created.id}`,
            (created) => ({ campaignId: created.campaignId, ...auditSettings(created) }),
          );
          const created = await context.eventTypes.create({ ...settings, id, campaignId }, audit);
          seeOther(res, `/admin/event-types/${created.id}?done=event-type-created`);
          return;
        } catch (error) {
          problems.push(problemOf(error));
        }
      }
      await showList(req, res, context, { form, problems, status: 400 });
    }),
  );

  router.get(
    '/event-types/:id',
    route(async (req, res) => {
      const eventType = await findEventType(req, res, context);
      if (eventType) showEventType(req, res, context, eventType);
    }),
  );

  router.post(
    '/event-types/:id',
    route(async (req, res) => {
      const eventType = await findEventType(req, res, context);
      if (!eventType) return;
      const form = { ...formFrom(req.body), id: String(eventType.id), campaignId: String(eventType.campaignId) };
      const { settings, problems } = parseSettings(form);
      if (settings) {
        const before = auditSettings(eventType);
        const after = auditSettings(settings);
        const changed = (Object.keys(after) as Array<keyof typeof after>).filter(
          (key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]),
        );
        try {
          if (changed.length > 0) {
            const details = Object.fromEntries(changed.map((key) => [key, { before: before[key], after: after[key] }]));
            await context.eventTypes.update(
              eventType.id,
              settings,
              context.audit.within(actorOf(req, res), 'event_type.update', `event type ${eventType.id}`, details),
            );
          }
          seeOther(res, `/admin/event-types/${eventType.id}?done=event-type-saved`);
          return;
        } catch (error) {
          problems.push(problemOf(error));
        }
      }
      showEventType(req, res, context, eventType, { form, problems, status: 400 });
    }),
  );
}
