import type { AuditEntry } from '../../store/console-audit-store';
import { html, SafeHtml, time } from '../html';

function details(entry: AuditEntry): SafeHtml {
  if (!entry.details) return html`<span class="muted">—</span>`;
  const items = Object.entries(entry.details).map(([key, value]) => {
    const shown =
      value && typeof value === 'object' && 'before' in value && 'after' in value
        ? `${String((value as { before: unknown }).before)} → ${String((value as { after: unknown }).after)}`
        : value === null
          ? '—'
          : typeof value === 'object'
            ? JSON.stringify(value)
            : String(value);
    return html`<li><span class="muted">${key}:</span> ${shown}</li>`;
  });
  return html`<ul class="small details">${items}</ul>`;
}

/** What each action code means, in words (the code stays beside it, for searching and scripts). */
const ACTIONS: Record<string, string> = {
  'session.sign_in': 'Signed in',
  'session.sign_in_failed': 'Sign-in refused',
  'session.sign_out': 'Signed out',
  'campaign.create': 'Created a campaign',
  'campaign.rename': 'Renamed a campaign',
  'campaign.settings': 'Changed campaign settings',
  'campaign.password_set': 'Set the campaign password',
  'campaign.password_rotated': 'Rotated the campaign password',
  'affiliate.create': 'Created an affiliate',
  'affiliate.update': 'Changed an affiliate',
  'affiliate.test_postback': 'Sent a test postback',
  'whitelist.add': 'Added a white-list entry',
  'whitelist.remove': 'Removed a white-list entry',
  'postback.retry': 'Retried a postback',
  'transaction.amend': 'Amended a transaction by hand',
  'batch.upload': 'Uploaded a file',
  'event_type.create': 'Created an event type',
  'event_type.update': 'Changed an event type',
  'processing.hourly': 'Ran the hourly roll-up',
  'processing.nightly': 'Ran nightly processing',
  'processing.nightly_hold': 'Held nightly processing',
  'processing.nightly_release': 'Released nightly processing',
};

/** Targets the console has a page for, as links. */
const TARGET_PAGES: Array<[RegExp, (id: string) => string]> = [
  [/^campaign (\d+)$/, (id) => `/admin/campaigns/${id}`],
  [/^event type (\d+)$/, (id) => `/admin/event-types/${id}`],
  [/^affiliate (\d+)$/, (id) => `/admin/affiliates/${id}`],
  [/^batch (\d+)$/, (id) => `/admin/batches/${id}`],
  [/^transaction (\d+)$/, (id) => `/admin/transactions/${id}`],
  [/^(nightly state|hourly roll-up)$/, () => '/admin/processing'],
];

function actionCell(action: string): SafeHtml {
  const label = ACTIONS[action];
  return label ? html`${label}<br><code class="small muted">${action}</code>` : html`<code>${action}</code>`;
}

function targetCell(target: string | null): SafeHtml | string {
  if (target === null) return '—';
  for (const [pattern, href] of TARGET_PAGES) {
    const id = pattern.exec(target)?.[1];
    if (id !== undefined) return html`<a href="${href(id)}">${target}</a>`;
  }
  return target;
}

/** The audit log: every change made in the console, newest first. */
export function auditView(entries: AuditEntry[], olderHref: string | null): SafeHtml {
  if (entries.length === 0)
    return html`<section class="card"><p>Nothing has been changed through the console yet.</p></section>`;
  const rows = entries.map(
    (
      e,
    ) => html`<tr><td data-label="When">${time(e.at)}</td><td data-label="Who">${e.actor}</td><td data-label="Action">${actionCell(e.action)}</td>
<td data-label="Target">${targetCell(e.target)}</td><td data-label="Details">${details(e)}</td><td data-label="Client IP"><code>${e.clientIp ?? '—'}</code></td></tr>`,
  );
  return html`<section class="card"><div class="table-wrap"><table class="stack"><caption>Changes made in the console, newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Details</th><th scope="col">Client IP</th></tr></thead>
<tbody>${rows}</tbody></table></div>
${olderHref ? html`<p class="pager"><a href="${olderHref}">Older entries</a></p>` : ''}</section>`;
}
