import { MAX_EVENT_TYPE_ID, MAX_LOCKING_DAYS, type EventType } from '../../core/event-type';
import { formatMoney } from '../../core/money';
import { html, SafeHtml, time } from '../html';
import { csrfField, PageSession } from './layout';

/** What the create and edit forms show (again, after a refused submission): the fields as typed. */
export interface EventTypeForm {
  id: string;
  campaignId: string;
  name: string;
  lockingDays: string;
  payoutType: string;
  payoutValue: string;
  /** One custom code per line: `CODE effect`. */
  codes: string;
}

/** The form's fields filled from a stored event type. */
export function formOf(e: EventType): EventTypeForm {
  return {
    id: String(e.id),
    campaignId: String(e.campaignId),
    name: e.name,
    lockingDays: String(e.lockingDays),
    payoutType: e.payout.type,
    payoutValue: formatMoney(e.payout.value),
    codes: e.dispositionCodes.map((c) => `${c.code} ${c.effect}`).join('\n'),
  };
}

/** A payout rule as people read it. */
export const payoutText = (e: EventType) =>
  e.payout.type === 'percent'
    ? `${formatMoney(e.payout.value)} % of the amount`
    : `${formatMoney(e.payout.value)} fixed`;

function settingsFields(form: EventTypeForm): SafeHtml {
  const option = (value: string, label: string) =>
    html`<option value="${value}"${form.payoutType === value ? html` selected` : ''}>${label}</option>`;
  return html`<div class="field"><label for="name">Name</label><input type="text" id="name" name="name" value="${form.name}" required maxlength="255"></div>
<div class="field"><label for="lockingDays">Locking period (days)</label><input type="number" id="lockingDays" name="lockingDays" value="${form.lockingDays}" min="0" max="${MAX_LOCKING_DAYS}" step="1" required aria-describedby="lockingDays-hint"><span class="hint" id="lockingDays-hint">After this many days an action is approved and can no longer be changed (0–${MAX_LOCKING_DAYS}).</span></div>
<div class="field"><label for="payoutType">Payout rule</label><select id="payoutType" name="payoutType">${option('percent', 'Percent of the amount')}${option('fixed', 'Fixed payout')}</select></div>
<div class="field"><label for="payoutValue">Payout value</label><input type="text" id="payoutValue" name="payoutValue" value="${form.payoutValue}" required inputmode="decimal" maxlength="20" aria-describedby="payoutValue-hint"><span class="hint" id="payoutValue-hint">A percent (at most 100, e.g. <code>12.5</code>) or an amount (e.g. <code>5.00</code>). A percent payout is recalculated from each new amount, rounded half-up to cents; a fixed one stays as it is.</span></div>
<div class="field"><label for="codes">Custom disposition codes</label><textarea id="codes" name="codes" rows="5" spellcheck="false" aria-describedby="codes-hint">${form.codes}</textarea><span class="hint" id="codes-hint">One per line: the code, a space, and its effect — <code>modify</code>, <code>reverse</code> or <code>approve</code>; e.g. <code>Late_Return reverse</code>. Codes are matched in exact case and may not repeat a standard code such as REJECTED.</span></div>`;
}

/** The Event types page: the create form, a campaign filter and the list. */
export function eventTypeListView(input: {
  eventTypes: EventType[];
  campaignFilter: number | null;
  form: EventTypeForm;
  session: PageSession;
}): SafeHtml {
  const { eventTypes, campaignFilter, form, session } = input;
  const rows = eventTypes.map(
    (e) => html`<tr>
  <td data-label="ID" class="num"><a href="/admin/event-types/${e.id}">${e.id}</a></td>
  <td data-label="Name"><a href="/admin/event-types/${e.id}">${e.name}</a></td>
  <td data-label="Campaign"><a href="/admin/campaigns/${e.campaignId}">${e.campaignId}</a></td>
  <td data-label="Locking days" class="num">${e.lockingDays}</td>
  <td data-label="Payout">${payoutText(e)}</td>
  <td data-label="Custom codes">${e.dispositionCodes.length ? e.dispositionCodes.map((c, i) => html`${i ? ', ' : ''}<code>${c.code}</code> ${c.effect}`) : html`<span class="muted">—</span>`}</td>
</tr>`,
  );
  const caption = `${eventTypes.length} event type${eventTypes.length === 1 ? '' : 's'}${campaignFilter === null ? '' : ` of campaign ${campaignFilter}`}`;
  const list = eventTypes.length
    ? html`<div class="table-wrap"><table class="stack"><caption>${caption}</caption>
<thead><tr><th scope="col" class="num">ID</th><th scope="col">Name</th><th scope="col">Campaign</th><th scope="col" class="num">Locking days</th><th scope="col">Payout</th><th scope="col">Custom codes</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p>No event types${campaignFilter === null ? '' : ` for campaign ${campaignFilter}`}.</p>`;
  return html`<section class="card">
<form class="inline" method="get" action="/admin/event-types">
<div class="field"><label for="show">Show event types of campaign</label><input type="text" id="show" name="campaignId" value="${campaignFilter ?? ''}" inputmode="numeric" pattern="[0-9]*" maxlength="10" placeholder="all"></div>
<button type="submit" class="secondary">Show</button>${campaignFilter === null ? '' : html` <a class="button secondary" href="/admin/event-types">All</a>`}
</form></section>
<section class="card">${list}</section>
<section class="card" aria-labelledby="create-h"><h2 id="create-h">Create an event type</h2>
<p class="hint">An impact.com event type (ActionTrackerId): brands name it in their files, so give the id they already use, or leave it empty for the next free one.</p>
<form class="stack" method="post" action="/admin/event-types">${csrfField(session)}
<div class="field"><label for="id">Event type ID (ActionTrackerId)</label><input type="text" id="id" name="id" value="${form.id}" inputmode="numeric" pattern="[0-9]*" maxlength="10" aria-describedby="id-hint"><span class="hint" id="id-hint">1–${MAX_EVENT_TYPE_ID}; empty for the next free id.</span></div>
<div class="field"><label for="campaignId">Campaign ID (CID)</label><input type="text" id="campaignId" name="campaignId" value="${form.campaignId}" required inputmode="numeric" pattern="[0-9]*" maxlength="10"></div>
${settingsFields(form)}
<div class="actions"><button type="submit">Create event type</button></div>
</form></section>`;
}

/** One event type: its facts and the edit form. */
export function eventTypeView(input: { eventType: EventType; form: EventTypeForm; session: PageSession }): SafeHtml {
  const { eventType: e, form, session } = input;
  return html`<section class="card" aria-labelledby="facts-h"><h2 id="facts-h">Event type</h2>
<dl class="facts"><dt>ID (ActionTrackerId)</dt><dd>${e.id}</dd><dt>Campaign</dt><dd><a href="/admin/campaigns/${e.campaignId}">${e.campaignId}</a></dd>
<dt>Payout</dt><dd>${payoutText(e)}</dd><dt>Locking period</dt><dd>${e.lockingDays} day${e.lockingDays === 1 ? '' : 's'}</dd>
<dt>Created</dt><dd>${time(e.createdAt)}</dd><dt>Updated</dt><dd>${time(e.updatedAt)}</dd></dl></section>
<section class="card" aria-labelledby="edit-h"><h2 id="edit-h">Edit</h2>
<form class="stack" method="post" action="/admin/event-types/${e.id}">${csrfField(session)}
${settingsFields(form)}
<div class="actions"><button type="submit">Save event type</button></div>
</form></section>
<p><a href="/admin/event-types?campaignId=${e.campaignId}">Event types of campaign ${e.campaignId}</a></p>`;
}
