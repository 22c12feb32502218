import type { RefusalCount } from '../../store/refusal-store';
import { html, SafeHtml, time } from '../html';

/** The filter as typed, kept in the form. */
export interface RefusalFilter {
  campaignId: string;
  clientIp: string;
}

/** What /transaction.edit refused, per client address, campaign and message: support's page. */
export function refusalsView(counts: RefusalCount[], filter: RefusalFilter, forMerchant = false): SafeHtml {
  const form = html`<form class="inline" method="get" action="/admin/refusals" role="search">
<div class="field"><label for="campaignId">Campaign ID</label><input type="text" id="campaignId" name="campaignId" inputmode="numeric" autocomplete="off" value="${filter.campaignId}"></div>
<div class="field"><label for="clientIp">Client IP</label><input type="text" id="clientIp" name="clientIp" autocomplete="off" spellcheck="false" value="${filter.clientIp}"></div>
<div class="actions"><button type="submit">Filter</button>${filter.campaignId || filter.clientIp ? html` <a href="/admin/refusals">Show all</a>` : ''}</div>
</form>`;
  const rows = counts.map(
    (r) => html`<tr><td data-label="Last">${time(r.lastAt)}</td>
<td data-label="Client IP"><a href="/admin/refusals?clientIp=${encodeURIComponent(r.clientIp)}"><code>${r.clientIp}</code></a></td>
<td data-label="Campaign">${r.campaignId === null ? html`<span class="muted">—</span>` : html`<a href="/admin/campaigns/${r.campaignId}">${r.campaignId}</a>`}</td>
<td data-label="Message">${r.message}</td>
<td data-label="Count" class="num">${r.count}</td>
<td data-label="First">${time(r.firstAt)}</td></tr>`,
  );
  const table = counts.length
    ? html`<div class="table-wrap"><table class="stack"><caption>Refusals, most recent first</caption>
<thead><tr><th scope="col">Last</th><th scope="col">Client IP</th><th scope="col">Campaign</th><th scope="col">Message</th><th scope="col" class="num">Count</th><th scope="col">First</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p>No refusals${filter.campaignId || filter.clientIp ? ' match this filter' : ' yet'}.</p>`;
  const purpose = forMerchant
    ? html`What <code>/transaction.edit</code> refused of your campaigns’ requests, per client address, campaign and message — to see what your CRM sends and fix it.`
    : html`What <code>/transaction.edit</code> answered with a failure, per client address, campaign and message — to tell a merchant what its CRM sends.`;
  return html`<section class="card"><p class="hint">${purpose} The campaign is the one the request's transaction belongs to, or its <code>CID</code>${forMerchant ? '' : '; a dash when neither was known'}. Counts are written every few seconds.</p>${form}</section>
<section class="card">${table}</section>`;
}
