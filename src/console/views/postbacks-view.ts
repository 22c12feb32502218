import type { PostbackDelivery } from '../../store/postback-store';
import { html, SafeHtml, time } from '../html';

/** The statuses the Postbacks page filters by (retrying: pending after a failed attempt). */
export const POSTBACK_FILTERS = ['delivered', 'retrying', 'waiting', 'failed'] as const;
export type PostbackFilter = (typeof POSTBACK_FILTERS)[number];

/** Postback deliveries of one status, newest first, each linking to its transaction (where it can be retried). */
export function postbacksView(deliveries: PostbackDelivery[], status: PostbackFilter | null): SafeHtml {
  const tabs = POSTBACK_FILTERS.map((s) =>
    s === status
      ? html`<strong aria-current="true">${s}</strong>`
      : html`<a href="/admin/postbacks?status=${s}">${s}</a>`,
  );
  const rows = deliveries.map(
    (d) => html`<tr><td data-label="Created">${time(d.createdAt)}</td>
<td data-label="Transaction"><a href="/admin/transactions/${d.transactionId}">${d.transactionId}</a></td>
<td data-label="Affiliate">${d.affiliateId}</td>
<td data-label="Status">${d.status}</td>
<td data-label="Attempts" class="num">${d.attempts}</td>
<td data-label="Last error">${d.lastError ?? html`<span class="muted">—</span>`}</td></tr>`,
  );
  const table = deliveries.length
    ? html`<div class="table-wrap"><table class="stack"><caption>Deliveries, newest first (at most 200)</caption>
<thead><tr><th scope="col">Created</th><th scope="col">Transaction</th><th scope="col">Affiliate</th><th scope="col">Status</th><th scope="col" class="num">Attempts</th><th scope="col">Last error</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p>No deliveries${status ? html` ${status}` : ''}.</p>`;
  return html`<section class="card"><p>Show: ${tabs.map((t, i) => html`${i ? ' · ' : ''}${t}`)}${status ? html` · <a href="/admin/postbacks">all</a>` : ''}</p>${table}</section>`;
}
