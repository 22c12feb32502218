import type { NightlyOutcome } from '../../processing/nightly-processing';
import type { ProcessingStatus } from '../../processing/processing-service';
import { html, SafeHtml, time, yesNo } from '../html';
import { csrfField, PageSession } from './layout';

/** The result of a run just requested, shown above the state. */
export type ProcessingRun =
  | { kind: 'hourly'; from: number; through: number }
  | { kind: 'nightly'; outcome: NightlyOutcome }
  | { kind: 'hold'; inProgress: boolean };

/** One line saying what a run did. */
export function runSummary(run: ProcessingRun): string {
  if (run.kind === 'hold')
    return run.inProgress
      ? 'Nightly processing is now held: every modification answers “Nightly processing in progress” until released.'
      : 'Nightly processing state released: modifications are accepted again.';
  if (run.kind === 'hourly') {
    return run.through > run.from
      ? `Hourly roll-up done: hours from ${new Date(run.from).toISOString()} to ${new Date(run.through).toISOString()} are rolled up.`
      : `Hourly roll-up done: nothing new to roll up (rolled up through ${new Date(run.through).toISOString()}).`;
  }
  const o = run.outcome;
  switch (o.kind) {
    case 'completed': {
      const r = o.report;
      const check = r.consistency.ok
        ? 'the consistency check found no differences'
        : `the consistency check found ${r.consistency.differences.length} difference(s)`;
      return `Nightly processing for ${r.date} (${r.timeZone}) completed: ${r.dailyRows} daily statistics row(s); ${check}.`;
    }
    case 'already_in_progress':
      return 'Nightly processing is already in progress (or held by hand); nothing was started.';
    case 'already_completed':
      return `Nightly processing for ${o.date} was already completed.`;
    case 'day_not_over':
      return `${o.date} is not over yet in the reporting time zone; its last hour ends at ${new Date(o.hoursEndAt).toISOString()}.`;
  }
}

function differences(run: ProcessingRun | null): SafeHtml {
  if (!run || run.kind !== 'nightly' || run.outcome.kind !== 'completed' || run.outcome.report.consistency.ok)
    return html``;
  const rows = run.outcome.report.consistency.differences.map(
    (d) =>
      html`<tr><td data-label="CID" class="num">${d.campaignId}</td><td data-label="Affiliate" class="num">${d.affiliateId}</td><td data-label="Totals that differ">${d.fields.join(', ')}</td></tr>`,
  );
  return html`<section class="card"><div class="table-wrap"><table class="stack"><caption>Statistics that differ from the transactions</caption>
<thead><tr><th scope="col" class="num">CID</th><th scope="col" class="num">Affiliate</th><th scope="col">Totals that differ</th></tr></thead><tbody>${rows}</tbody></table></div></section>`;
}

/** The run holding the lease, if any: its day, its start, its lease, and whether it still holds. */
function runFacts(run: ProcessingStatus['nightly']['run']): SafeHtml {
  if (!run) return html`<dt>Run</dt><dd><span class="muted">—</span></dd>`;
  const state = run.live
    ? html`lease until ${time(run.leaseExpiresAt)}`
    : html`<strong>lease expired</strong> at ${time(run.leaseExpiresAt)}: interrupted`;
  return html`<dt>Run</dt><dd>${run.date}, started ${time(run.startedAt)}; ${state}</dd>`;
}

/** Runs found interrupted (their process died, or an admin ended the lease) and whether their day was done again. */
function interruptedDays(status: ProcessingStatus): SafeHtml {
  const { interruptedDays: days, interruptions } = status.nightly;
  if (days.length === 0) return html``;
  const rows = days.map(
    (d) =>
      html`<tr><td data-label="Day">${d.date}</td><td data-label="Found interrupted">${time(d.interruptedAt)}</td><td data-label="Done again">${d.completedAt === null ? html`<strong>not yet</strong>` : time(d.completedAt)}</td></tr>`,
  );
  return html`<div class="table-wrap"><table class="stack"><caption>Interrupted nightly runs (${interruptions} in all; the latest)</caption>
<thead><tr><th scope="col">Day</th><th scope="col">Found interrupted</th><th scope="col">Done again</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** The Processing page: watermark, nightly state, and a button for each job. */
export function processingView(input: {
  status: ProcessingStatus;
  timeZone: string;
  defaultNightlyDate: string;
  run: ProcessingRun | null;
  session: PageSession;
}): SafeHtml {
  const { status, session } = input;
  const { held, run } = status.nightly;
  // Releasing clears the hold and ends a run's lease; shown when there is either to release.
  const release = held || run !== null;
  return html`${differences(input.run)}<div class="grid-2">
<section class="card" aria-labelledby="hourly-h"><h2 id="hourly-h">Hourly roll-up</h2>
<dl class="facts"><dt>Rolled up through</dt><dd>${time(status.hourly.rolledUpThrough)}</dd><dt>Last run</dt><dd>${time(status.hourly.lastRunAt)}</dd></dl>
<p class="hint">Transactions from hours before the watermark are in the statistics and can be modified; later ones answer “Temporary failure: Hourly processing not completed”.</p>
<form class="stack" method="post" action="/admin/processing/hourly">${csrfField(session)}
<div class="field"><label for="through">Roll up through (UTC, optional)</label><input type="text" id="through" name="through" placeholder="YYYY-MM-DD HH:MM" pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})?" autocomplete="off" spellcheck="false" aria-describedby="through-hint"><span class="hint" id="through-hint">In UTC, as the console shows times, e.g. 2026-12-05 14:00. Empty: through the start of the current hour (never later).</span></div>
<div class="actions"><button type="submit">Run hourly roll-up</button></div></form>
</section>
<section class="card" aria-labelledby="nightly-h"><h2 id="nightly-h">Nightly processing</h2>
<dl class="facts"><dt>In progress</dt><dd>${yesNo(status.nightly.inProgress)}</dd><dt>Held by hand</dt><dd>${yesNo(held)}</dd>${runFacts(run)}<dt>Started</dt><dd>${time(status.nightly.startedAt)}</dd><dt>Last completed</dt><dd>${time(status.nightly.lastCompletedAt)}</dd><dt>Reporting time zone</dt><dd>${input.timeZone}</dd></dl>
<p class="hint">While a run holds its lease, or the state is held by hand, every modification answers “Temporary failure: Nightly processing in progress”. A run renews its lease as it works; a lease not renewed expires, and its day is run again by the next scheduled pass.</p>
${interruptedDays(status)}
<form class="stack" method="post" action="/admin/processing/nightly">${csrfField(session)}
<div class="field"><label for="date">Day to process</label><input type="text" id="date" name="date" value="${input.defaultNightlyDate}" placeholder="YYYY-MM-DD" pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}" inputmode="numeric" autocomplete="off" spellcheck="false" required></div>
<div class="actions"><button type="submit">Run nightly processing</button></div></form>
<form class="stack" method="post" action="/admin/processing/nightly-state" data-confirm="${release ? 'Release the nightly state? The hold is cleared and a run’s lease ended; modifications will be accepted again.' : 'Hold the nightly state? Every modification will be refused until it is released.'}">${csrfField(session)}
<input type="hidden" name="inProgress" value="${release ? 'false' : 'true'}">
<p class="hint">For maintenance, or networks whose nightly job runs elsewhere: hold the state by hand; no run clears the hold.</p>
<div class="actions"><button type="submit" class="secondary">${release ? 'Release nightly state' : 'Hold nightly state'}</button></div></form>
</section></div>`;
}
