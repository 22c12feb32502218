import type { Request, Response, Router } from 'express';
import type { RollupResult } from '../../processing/hourly-rollup';
import type { NightlyWork } from '../../processing/nightly-processing';
import { isReportingDate } from '../../processing/reporting-calendar';
import { actorOf, ConsoleContext, field, route, sendPage, sessionOf } from '../console-context';
import { ProcessingRun, processingView, runSummary } from '../views/processing-view';

async function showProcessing(
  req: Request,
  res: Response,
  context: ConsoleContext,
  extra: { run?: ProcessingRun; problems?: string[]; status?: number } = {},
): Promise<void> {
  const { processing } = context;
  const status = await processing.status();
  const body = processingView({
    status,
    timeZone: processing.calendar.timeZone,
    defaultNightlyDate: processing.calendar.previousDate(Date.now()),
    run: extra.run ?? null,
    session: sessionOf(res),
  });
  const notice = extra.run ? runSummary(extra.run) : null;
  sendPage(
    req,
    res,
    context,
    { title: 'Processing', section: 'processing', notice, problems: extra.problems, body },
    extra.status,
  );
}

// The form asks for `YYYY-MM-DD HH:MM` (or `T` between) in UTC, as the console shows times; ISO with a zone works too.
function parseThrough(input: string): number | null {
  const text = input.replace(/^(\d{4}-\d{2}-\d{2}) /, '$1T');
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(text)) return Date.parse(`${text}Z`);
  const parsed = Date.parse(text);
  return /^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(parsed) ? parsed : null;
}

/**
 * Processing: roll-up watermark, nightly state, and buttons to run each. Runs answer with the page
 * itself (not a redirect), so what the run did can be shown in full.
 */
export function processingRoutes(router: Router, context: ConsoleContext): void {
  router.get(
    '/processing',
    route(async (req, res) => showProcessing(req, res, context)),
  );

  router.post(
    '/processing/hourly',
    route(async (req, res) => {
      const text = field(req.body, 'through').trim();
      const through = text === '' ? undefined : parseThrough(text);
      if (through === null)
        return showProcessing(req, res, context, {
          problems: ['“Roll up through” must be a date and time.'],
          status: 400,
        });
      const audit = context.audit.within<RollupResult>(
        actorOf(req, res),
        'processing.hourly',
        'hourly roll-up',
        (result) => ({
          requestedThrough: through === undefined ? null : new Date(through).toISOString(),
          from: new Date(result.from).toISOString(),
          through: new Date(result.through).toISOString(),
        }),
      );
      const result = await context.processing.runHourly({ through }, audit);
      await showProcessing(req, res, context, { run: { kind: 'hourly', ...result } });
    }),
  );

  router.post(
    '/processing/nightly',
    route(async (req, res) => {
      const date = field(req.body, 'date').trim();
      if (!isReportingDate(date))
        return showProcessing(req, res, context, {
          problems: ['Choose the day to process (YYYY-MM-DD).'],
          status: 400,
        });
      const who = actorOf(req, res);
      // A completed run's entry commits with the day's statistics; a refused one changed nothing and is noted on its own.
      const audit = context.audit.within<NightlyWork>(who, 'processing.nightly', `nightly ${date}`, (work) => ({
        date,
        outcome: 'completed',
        differences: work.consistency.differences.length,
      }));
      const outcome = await context.processing.runNightly({ date }, audit);
      if (outcome.kind !== 'completed')
        await context.audit.record(who, 'processing.nightly', `nightly ${date}`, { date, outcome: outcome.kind });
      await showProcessing(req, res, context, { run: { kind: 'nightly', outcome } });
    }),
  );

  router.post(
    '/processing/nightly-state',
    route(async (req, res) => {
      const value = field(req.body, 'inProgress');
      if (value !== 'true' && value !== 'false')
        return showProcessing(req, res, context, {
          problems: ['Say whether to hold or release the nightly state.'],
          status: 400,
        });
      const inProgress = value === 'true';
      await context.processing.holdNightly(
        inProgress,
        context.audit.within(
          actorOf(req, res),
          inProgress ? 'processing.nightly_hold' : 'processing.nightly_release',
          'nightly state',
          { inProgress },
        ),
      );
      await showProcessing(req, res, context, { run: { kind: 'hold', inProgress } });
    }),
  );
}
