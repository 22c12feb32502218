import type { WhitelistEntry } from '../../store/whitelist-store';
import { html, SafeHtml, time } from '../html';
import { csrfField, PageSession } from './layout';

/** Which entries the page shows: all, only global ones, or one campaign's (plus the global ones). */
export type WhitelistFilter = { kind: 'all' } | { kind: 'global' } | { kind: 'campaign'; campaignId: number };

/** What the add form shows again after a refused submission. */
export interface WhitelistForm {
  address: string;
  campaignId: string;
  note: string;
}

function entryRows(entries: WhitelistEntry[], session: PageSession, returnTo: string): SafeHtml[] {
  return entries.map(
    (e) => html`<tr>
  <td data-label="Address"><code>${e.address}</code></td>
  <td data-label="Applies to">${e.campaignId === null ? 'All campaigns (global)' : html`<a href="/admin/campaigns/${e.campaignId}">Campaign ${e.campaignId}</a>`}</td>
  <td data-label="Note">${e.note ?? html`<span class="muted">—</span>`}</td>
  <td data-label="Added">${time(e.createdAt)}</td>
  <td data-label="Action"><form method="post" action="/admin/whitelist/${e.id}/remove" data-confirm="Remove ${e.address} from the white-list?">${csrfField(session)}
    <input type="hidden" name="returnTo" value="${returnTo}">
    <button type="submit" class="danger small">Remove<span class="visually-hidden"> ${e.address}</span></button></form></td>
</tr>`,
  );
}

function table(caption: string, entries: WhitelistEntry[], session: PageSession, returnTo: string): SafeHtml {
  if (entries.length === 0) return html`<h2>${caption}</h2><p>None.</p>`;
  return html`<div class="table-wrap"><table class="stack"><caption>${caption}</caption>
<thead><tr><th scope="col">Address or range</th><th scope="col">Applies to</th><th scope="col">Note</th><th scope="col">Added</th><th scope="col">Action</th></tr></thead>
<tbody>${entryRows(entries, session, returnTo)}</tbody></table></div>`;
}

/** The White-listed IPs page: the add form, then global and campaign entries. */
export function whitelistView(input: {
  entries: WhitelistEntry[];
  filter: WhitelistFilter;
  form: WhitelistForm;
  session: PageSession;
  returnTo: string;
}): SafeHtml {
  const { entries, filter, form, session, returnTo } = input;
  const global = entries.filter((e) => e.campaignId === null);
  const perCampaign = entries.filter((e) => e.campaignId !== null);
  const campaignCaption = filter.kind === 'campaign' ? `Campaign ${filter.campaignId} only` : 'Per campaign';
  return html`<section class="card" aria-labelledby="add-h"><h2 id="add-h">Add an address or range</h2>
<p class="hint">Used by campaigns with “Only Allow Modifications from White Listed IPs”. An IPv4 or IPv6 address, or a CIDR range such as <code>203.0.113.0/24</code> or <code>2001:db8::/32</code>.</p>
<form class="stack" method="post" action="/admin/whitelist">${csrfField(session)}
<input type="hidden" name="returnTo" value="${returnTo}">
<div class="field"><label for="address">IP address or CIDR range</label><input type="text" id="address" name="address" value="${form.address}" required maxlength="64" autocomplete="off" spellcheck="false" inputmode="text"></div>
<div class="field"><label for="campaignId">Campaign ID (CID)</label><input type="text" id="campaignId" name="campaignId" value="${form.campaignId}" inputmode="numeric" pattern="[0-9]*" maxlength="10" aria-describedby="campaignId-hint"><span class="hint" id="campaignId-hint">Leave empty for a global entry that applies to every campaign.</span></div>
<div class="field"><label for="note">Note</label><input type="text" id="note" name="note" value="${form.note}" maxlength="255" aria-describedby="note-hint"><span class="hint" id="note-hint">Whose address this is, e.g. “Acme CRM servers”.</span></div>
<div class="actions"><button type="submit">Add to white-list</button></div>
</form></section>
<section class="card">
<form class="inline" method="get" action="/admin/whitelist">
<div class="field"><label for="show">Show entries for</label><input type="text" id="show" name="campaignId" value="${filter.kind === 'campaign' ? String(filter.campaignId) : filter.kind === 'global' ? 'global' : ''}" placeholder="all, global, or a CID"></div>
<button type="submit" class="secondary">Show</button>
</form></section>
<section class="card">${table('Global (all campaigns)', global, session, returnTo)}</section>
${filter.kind === 'global' ? '' : html`<section class="card">${table(campaignCaption, perCampaign, session, returnTo)}</section>`}`;
}
