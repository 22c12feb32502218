import { formatMoney } from '../../core/money';
import { visibleState, type ActionItem } from '../../core/action';
import { STANDARD_DISPOSITION_CODES } from '../../core/event-type';
import type { Modification } from '../../store/modification-store';
import type { PostbackAttempt, PostbackDelivery } from '../../store/postback-store';
import type { Affiliate } from '../../store/affiliate-store';
import type { Transaction } from '../../core/transaction';
import { html, SafeHtml, time, yesNo } from '../html';
import { csrfField, PageSession } from './layout';

/** What the search form shows again. */
export interface TransactionSearch {
  transactionId: string;
  clickId: string;
  merchantReferenceId: string;
  campaignId: string;
}

/** The search form: by transaction id, by click id, or by merchant reference + campaign. */
export function transactionSearchView(search: TransactionSearch, found: Transaction[] | null): SafeHtml {
  const results =
    found === null
      ? ''
      : found.length === 0
        ? html`<section class="card" role="status"><p>No transaction matches.</p></section>`
        : html`<section class="card"><div class="table-wrap"><table class="stack"><caption>${found.length} transactions match</caption>
<thead><tr><th scope="col" class="num">Transaction ID</th><th scope="col">Click ID</th><th scope="col" class="num">CID</th><th scope="col">Merchant ref.</th><th scope="col">Occurred</th></tr></thead>
<tbody>${found.map((t) => html`<tr><td data-label="Transaction ID" class="num"><a href="/admin/transactions/${t.id}">${t.id}</a></td><td data-label="Click ID"><code class="id">${t.clickId}</code></td><td data-label="CID" class="num">${t.campaignId}</td><td data-label="Merchant ref.">${t.merchantReferenceId ?? ''}</td><td data-label="Occurred">${time(t.occurredAt)}</td></tr>`)}</tbody></table></div></section>`;
  return html`<section class="card" aria-labelledby="find-h"><h2 id="find-h">Find a transaction</h2>
<p class="hint">Fill in one way of identifying it, as /transaction.edit accepts them.</p>
<div class="grid-2">
<form class="stack" method="get" action="/admin/transactions" role="search" aria-label="By transaction ID">
<div class="field"><label for="transactionId">Transaction ID</label><input type="text" id="transactionId" name="transactionId" value="${search.transactionId}" inputmode="numeric" autocomplete="off"></div>
<div class="actions"><button type="submit">Find by transaction ID</button></div></form>
<form class="stack" method="get" action="/admin/transactions" role="search" aria-label="By click ID">
<div class="field"><label for="clickId">Click ID</label><input type="text" id="clickId" name="clickId" value="${search.clickId}" autocomplete="off" spellcheck="false"></div>
<div class="actions"><button type="submit">Find by click ID</button></div></form>
<form class="stack" method="get" action="/admin/transactions" role="search" aria-label="By merchant reference and campaign">
<div class="field"><label for="merchantReferenceId">Merchant reference ID</label><input type="text" id="merchantReferenceId" name="merchantReferenceId" value="${search.merchantReferenceId}" autocomplete="off" spellcheck="false"></div>
<div class="field"><label for="campaignId">Campaign ID (CID)</label><input type="text" id="campaignId" name="campaignId" value="${search.campaignId}" inputmode="numeric" autocomplete="off"></div>
<div class="actions"><button type="submit">Find by merchant reference</button></div></form>
</div></section>
${results}`;
}

const IDENTIFIERS: Record<string, string> = {
  transaction_id: 'Transaction ID',
  click_id: 'Click ID',
  merchant_reference: 'Merchant ref. + CID',
};
const POSTBACK: Record<string, string> = {
  not_requested: 'Not requested',
  queued: 'Queued',
  no_postback_url: 'Requested; affiliate has no postback URL',
};

function who(m: Modification): SafeHtml {
  if (m.actor && m.source === 'merchant') return html`By hand (merchant): <strong>${m.actor}</strong>`;
  if (m.actor) return html`By hand: <strong>${m.actor}</strong>`;
  const batch = m.requestId ? /^batch-(\d+)-row-(\d+)$/.exec(m.requestId) : null;
  if (m.source === 'batch' && batch)
    return html`Batch <a href="/admin/batches#batch-${batch[1]}">${batch[1]}</a>, row ${batch[2]}`;
  if (m.source === 'api') return html`/transaction.edit`;
  return html`${m.source}`;
}

function change(before: string, after: string): SafeHtml {
  return before === after
    ? html`<span>${after}</span>`
    : html`<span class="change">${before} → <span class="to">${after}</span></span>`;
}

/** A history row's postback: what was decided then, and for a queued one where its delivery stands now. */
function postbackCell(m: Modification, deliveries: Map<number, PostbackDelivery>): SafeHtml | string {
  const decided = POSTBACK[m.postback] ?? m.postback;
  const delivery = m.postback === 'queued' ? deliveries.get(m.id) : undefined;
  if (!delivery) return decided;
  return html`<a href="#delivery-${delivery.id}">Postback ${delivery.id}</a>: <span class="state state-${delivery.status}">${delivery.status}</span>`;
}

function historyTable(history: Modification[], deliveries: PostbackDelivery[] = []): SafeHtml {
  const byModification = new Map(deliveries.map((d) => [d.modificationId, d]));
  if (history.length === 0) return html`<p>No modifications yet.</p>`;
  const rows = history.map((m) => {
    const changed =
      m.before.affiliatePayout !== m.after.affiliatePayout ||
      m.before.merchantRevenue !== m.after.merchantRevenue ||
      m.before.approved !== m.after.approved;
    return html`<tr${changed ? html` class="changed"` : ''}>
<td data-label="When">${time(m.createdAt)}</td>
<td data-label="Who / source">${who(m)}<br><span class="small muted">by ${IDENTIFIERS[m.identifier] ?? m.identifier}</span>${m.requestId ? html`<br><span class="small muted">request <code class="id">${m.requestId}</code></span>` : ''}</td>
<td data-label="Client IP"><code>${m.clientIp ?? '—'}</code></td>
<td data-label="Affiliate payout" class="num">${change(formatMoney(m.before.affiliatePayout), formatMoney(m.after.affiliatePayout))}</td>
<td data-label="Merchant revenue" class="num">${change(formatMoney(m.before.merchantRevenue), formatMoney(m.after.merchantRevenue))}</td>
<td data-label="Approved">${change(m.before.approved ? 'yes' : 'no', m.after.approved ? 'yes' : 'no')}</td>
<td data-label="Reason">${m.reason ?? html`<span class="muted">—</span>`}</td>
<td data-label="Postback">${postbackCell(m, byModification)}</td>
</tr>`;
  });
  return html`<div class="table-wrap"><table class="stack"><caption>${history.length} modification${history.length === 1 ? '' : 's'}, oldest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Who / source</th><th scope="col">Client IP</th><th scope="col" class="num">Affiliate payout</th><th scope="col" class="num">Merchant revenue</th><th scope="col">Approved</th><th scope="col">Reason</th><th scope="col">Postback</th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
}

function attemptsList(attempts: PostbackAttempt[]): SafeHtml {
  if (attempts.length === 0) return html`<p class="small muted">No attempts yet.</p>`;
  return html`<div class="table-wrap"><table class="stack"><caption class="small">Attempts</caption>
<thead><tr><th scope="col" class="num">#</th><th scope="col">Started</th><th scope="col">Result</th><th scope="col" class="num">Duration</th></tr></thead>
<tbody>${attempts.map(
    (a) => html`<tr><td data-label="#" class="num">${a.attempt}</td><td data-label="Started">${time(a.startedAt)}</td>
<td data-label="Result">${a.httpStatus !== null ? html`HTTP ${a.httpStatus}` : ''}${a.error ? html` <span class="state-failed">${a.error}</span>` : ''}</td>
<td data-label="Duration" class="num">${a.durationMs} ms</td></tr>`,
  )}</tbody></table></div>`;
}

function deliveryCard(d: PostbackDelivery, attempts: PostbackAttempt[], session: PageSession): SafeHtml {
  return html`<article class="delivery" aria-labelledby="delivery-${d.id}">
<h3 id="delivery-${d.id}">Postback ${d.id} <span class="state state-${d.status}">${d.status}</span></h3>
<dl class="facts"><dt>URL</dt><dd><code class="code-box">${d.url}</code></dd><dt>X-Postback-Id</dt><dd><code class="id">${d.postbackId}</code></dd>
<dt>Queued</dt><dd>${time(d.createdAt)}</dd><dt>Attempts</dt><dd>${d.attempts}</dd>
${d.status === 'pending' ? html`<dt>Next attempt</dt><dd>${time(d.nextAttemptAt)}</dd>` : ''}
${d.finishedAt ? html`<dt>Finished</dt><dd>${time(d.finishedAt)}</dd>` : ''}
${d.lastError ? html`<dt>Last error</dt><dd>${d.lastError}</dd>` : ''}</dl>
${attemptsList(attempts.filter((a) => a.deliveryId === d.id))}
${d.status === 'failed' && !session.merchant ? html`<form class="actions" method="post" action="/admin/postbacks/${d.id}/retry">${csrfField(session)}<button type="submit">Retry postback ${d.id}</button></form>` : ''}
</article>`;
}

/** An action's item lines. */
function itemsTable(items: ActionItem[]): SafeHtml {
  return html`<table><caption>Item lines</caption><thead><tr><th scope="col">SKU</th><th scope="col">Category</th><th scope="col">Name</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody>${items.map(
    (item) =>
      html`<tr><td data-label="SKU"><code>${item.sku}</code></td><td data-label="Category">${item.category ?? '—'}</td><td data-label="Name">${item.name ?? '—'}</td><td data-label="Quantity" class="num">${item.quantity}</td><td data-label="Amount" class="num">${formatMoney(item.amount)}</td></tr>`,
  )}</tbody></table>`;
}

/** "Acme Deals (id 7) · postback URL set", or the bare id when the affiliate cannot be read. */
function affiliateFact(
  id: number,
  affiliate: Pick<Affiliate, 'id' | 'name' | 'postbackUrl'> | null,
  linked = true,
): SafeHtml {
  if (!affiliate) return html`${id}`;
  // A merchant user sees the name only: the affiliate's page is an admin's.
  const name = linked
    ? html`<a href="/admin/affiliates/${affiliate.id}">${affiliate.name}</a>`
    : html`${affiliate.name}`;
  return html`${name} <span class="muted">(id ${id}) · ${affiliate.postbackUrl ? 'postback URL set' : 'no postback URL'}</span>`;
}

/** One transaction: its values, full modification history, and postback deliveries. */
/** What was typed in the amend form (kept when the change is refused). */
export type AmendForm = Partial<
  Record<
    'affiliatePayout' | 'merchantRevenue' | 'approved' | 'amount' | 'dispositionCode' | 'reason' | 'postback',
    string
  >
>;

/**
 * The form that amends a transaction by hand: LinkTrust's values (AP, MP, approved) for a plain
 * transaction, impact's amount and disposition code for an action. Fields left empty keep their value.
 */
function amendForm(t: Transaction, typed: AmendForm, session: PageSession): SafeHtml {
  const isAction = t.eventTypeId !== null;
  const fields = isAction
    ? html`<div class="field"><label for="amend-amount">New sale amount</label><input type="text" id="amend-amount" name="amount" inputmode="decimal" autocomplete="off" value="${typed.amount ?? ''}" placeholder="${formatMoney(t.merchantRevenue)}"><p class="small muted">The payout follows the event type's rule.</p></div>
<div class="field"><label for="amend-code">Disposition code</label><input type="text" id="amend-code" name="dispositionCode" list="amend-codes" autocomplete="off" value="${typed.dispositionCode ?? ''}" placeholder="ORDER_UPDATE"><datalist id="amend-codes">${STANDARD_DISPOSITION_CODES.map((code) => html`<option value="${code}"></option>`)}</datalist><p class="small muted">REJECTED reverses, RESET restores the values it was created with; the event type's own codes work too.</p></div>`
    : html`<div class="field"><label for="amend-ap">Affiliate payout (AP)</label><input type="text" id="amend-ap" name="affiliatePayout" inputmode="decimal" autocomplete="off" value="${typed.affiliatePayout ?? ''}" placeholder="${formatMoney(t.affiliatePayout)}"></div>
<div class="field"><label for="amend-mp">Merchant revenue (MP)</label><input type="text" id="amend-mp" name="merchantRevenue" inputmode="decimal" autocomplete="off" value="${typed.merchantRevenue ?? ''}" placeholder="${formatMoney(t.merchantRevenue)}"></div>
<div class="field"><label for="amend-approved">Approved (A)</label><select id="amend-approved" name="approved">
<option value=""${typed.approved ? '' : html` selected`}>keep (${yesNo(t.approved)})</option><option value="yes"${typed.approved === 'yes' ? html` selected` : ''}>yes</option><option value="no"${typed.approved === 'no' ? html` selected` : ''}>no</option></select></div>`;
  return html`<section class="card" aria-labelledby="amend-h"><h2 id="amend-h">Amend by hand</h2>
<p class="small muted">Applied as any change is: nightly and hourly processing still refuse it, the history names you, and the affiliate's postback fires only if you ask.</p>
<form method="post" action="/admin/transactions/${t.id}/amend" class="stack">${csrfField(session)}
${fields}
<div class="field"><label for="amend-reason">Reason</label><input type="text" id="amend-reason" name="reason" required maxlength="255" autocomplete="off" value="${typed.reason ?? ''}"></div>
<div class="field"><label><input type="checkbox" name="postback"${typed.postback === 'on' ? html` checked` : ''}> Fire the affiliate's postback</label></div>
<button type="submit">Amend transaction ${t.id}</button></form></section>`;
}

export function transactionView(input: {
  transaction: Transaction;
  /** What the amend form had when the change was refused. */
  amend?: AmendForm;
  /** Its affiliate (null when it cannot be read): named, with whether it has a postback URL. */
  affiliate: Pick<Affiliate, 'id' | 'name' | 'postbackUrl'> | null;
  history: Modification[];
  deliveries: PostbackDelivery[];
  attempts: PostbackAttempt[];
  session: PageSession;
  /** The locking date is judged at this time (the state a brand sees). */
  now: number;
}): SafeHtml {
  const t = input.transaction;
  return html`<section class="card" aria-labelledby="now-h"><h2 id="now-h">Now</h2>
<dl class="facts">
<dt>Transaction ID</dt><dd>${t.id}</dd><dt>Click ID</dt><dd><code class="id">${t.clickId}</code></dd>
<dt>Campaign</dt><dd><a href="/admin/campaigns/${t.campaignId}">${t.campaignId}</a></dd><dt>Affiliate</dt><dd>${affiliateFact(t.affiliateId, input.affiliate, !input.session.merchant)}</dd>
<dt>Merchant reference ID</dt><dd>${t.merchantReferenceId ?? '—'}</dd><dt>Sub ID</dt><dd>${t.subId ?? '—'}</dd><dt>Affiliate reference ID</dt><dd>${t.affiliateReferenceId ?? '—'}</dd>
<dt>Affiliate payout (AP)</dt><dd>${formatMoney(t.affiliatePayout)}</dd><dt>Merchant revenue (MP)</dt><dd>${formatMoney(t.merchantRevenue)}</dd>
<dt>Approved (A)</dt><dd>${yesNo(t.approved)}</dd><dt>Occurred</dt><dd>${time(t.occurredAt)}</dd><dt>Last changed</dt><dd>${time(t.updatedAt)}</dd>
</dl></section>
<section class="card" aria-labelledby="action-h"><h2 id="action-h">impact.com action</h2>
<dl class="facts">
<dt>Action ID</dt><dd><code class="id">${t.actionId}</code></dd>
<dt>Event type</dt><dd>${t.eventTypeId === null ? '—' : html`<a href="/admin/event-types/${t.eventTypeId}">${t.eventTypeId}</a>`}</dd>
<dt>State</dt><dd>${visibleState(t.state, t.lockingDate, input.now)}</dd><dt>Locking date</dt><dd>${time(t.lockingDate)}</dd>
<dt>Customer status</dt><dd>${t.customerStatus ?? '—'}</dd><dt>Modifications</dt><dd>${t.modificationCount}</dd>
</dl>
${t.items ? itemsTable(t.items) : html`<p>No item lines (tracked at order level).</p>`}
</section>
${amendForm(t, input.amend ?? {}, input.session)}
<section class="card" aria-labelledby="history-h"><h2 id="history-h">Modification history</h2>${historyTable(input.history, input.deliveries)}</section>
<section class="card" aria-labelledby="postbacks-h"><h2 id="postbacks-h">Postback deliveries</h2>
${input.deliveries.length ? input.deliveries.map((d) => deliveryCard(d, input.attempts, input.session)) : html`<p>No postbacks for this transaction.</p>`}
</section>`;
}
