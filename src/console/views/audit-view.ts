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

/** The audit log: every change made in the console, newest first. */
export function auditView(entries: AuditEntry[], olderHref: string | null): SafeHtml {
  if (entries.length === 0)
    return html`<section class="card"><p>Nothing has been changed through the console yet.</p></section>`;
  const rows = entries.map(
    (
      e,
    ) => html`<tr><td data-label="When">${time(e.at)}</td><td data-label="Who">${e.actor}</td><td data-label="Action"><code>${e.action}</code></td>
<td data-label="Target">${e.target ?? '—'}</td><td data-label="Details">${details(e)}</td><td data-label="Client IP"><code>${e.clientIp ?? '—'}</code></td></tr>`,
  );
  return html`<section class="card"><div class="table-wrap"><table class="stack"><caption>Changes made in the console, newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Details</th><th scope="col">Client IP</th></tr></thead>
<tbody>${rows}</tbody></table></div>
${olderHref ? html`<p class="pager"><a href="${olderHref}">Older entries</a></p>` : ''}</section>`;
}
