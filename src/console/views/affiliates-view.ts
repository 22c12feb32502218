import type { Affiliate } from '../../store/affiliate-store';
import type { PostbackToken } from '../../postbacks/url-template';
import type { TestPostbackResult } from '../../postbacks/test-postback';
import { html, pathWithQuery, SafeHtml, time, yesNo } from '../html';
import { csrfField, PageSession } from './layout';

/** What the affiliate forms were given, to show again after a refusal. */
export interface AffiliateDraft {
  id?: string;
  name: string;
  postbackUrl: string;
}

function postbackUrlField(value: string, hintId: string): SafeHtml {
  return html`<div class="field"><label for="postbackUrl">Postback URL <span class="muted">(optional)</span></label>
<input type="text" id="postbackUrl" name="postbackUrl" class="mono" value="${value}" maxlength="2048" spellcheck="false" autocomplete="off" inputmode="url" aria-describedby="${hintId}">
<span class="hint" id="${hintId}">Called when a transaction of this affiliate is approved or reversed; tokens such as <code>[=ClickID=]</code> are filled in. Leave empty for none.</span></div>`;
}

/** The affiliates list: search, a page of affiliates, and the form to create one. */
export function affiliateListView(input: {
  affiliates: Affiliate[];
  search: string;
  offset: number;
  pageSize: number;
  hasMore: boolean;
  session: PageSession;
  draft?: AffiliateDraft;
}): SafeHtml {
  const { affiliates, search, offset, pageSize } = input;
  const rows = affiliates.map(
    (a) => html`<tr>
  <td data-label="AFID" class="num">${a.id}</td>
  <td data-label="Name"><a href="/admin/affiliates/${a.id}">${a.name}</a></td>
  <td data-label="Postback URL">${yesNo(a.postbackUrl !== null)}</td>
  <td data-label="Updated">${time(a.updatedAt)}</td>
</tr>`,
  );
  const first = offset + 1;
  const caption = `Affiliates ${first}–${offset + affiliates.length}${search ? ` matching “${search}”` : ''}`;
  const table = affiliates.length
    ? html`<div class="table-wrap"><table class="stack">
<caption>${caption}</caption>
<thead><tr><th scope="col" class="num">AFID</th><th scope="col">Name</th><th scope="col">Postback URL</th><th scope="col">Updated</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p>No affiliates${search ? html` match “${search}”` : ''}${offset > 0 ? ' on this page' : ''}.</p>`;
  const pages = [
    offset > 0
      ? html`<a href="${pathWithQuery('/admin/affiliates', { q: search, offset: Math.max(0, offset - pageSize) || null })}">Previous page</a>`
      : '',
    input.hasMore
      ? html`<a href="${pathWithQuery('/admin/affiliates', { q: search, offset: offset + pageSize })}">Next page</a>`
      : '',
  ].filter((link) => link !== '');
  const draft = input.draft ?? { id: '', name: '', postbackUrl: '' };
  return html`<section class="card">
<form class="inline" method="get" action="/admin/affiliates" role="search">
  <div class="field"><label for="q">Search by name or AFID</label><input type="search" id="q" name="q" value="${search}"></div>
  <button type="submit">Search</button>${search ? html` <a class="button secondary" href="/admin/affiliates">Clear</a>` : ''}
</form>
</section>
<section class="card">${table}${pages.length ? html`<p class="pager actions">${pages}</p>` : ''}</section>
<section class="card" aria-labelledby="new-h"><h2 id="new-h">New affiliate</h2>
<form class="stack wide" method="post" action="/admin/affiliates">${csrfField(input.session)}
<div class="field"><label for="name">Name</label><input type="text" id="name" name="name" value="${draft.name}" required maxlength="255"></div>
<div class="field"><label for="id">AFID <span class="muted">(optional)</span></label><input type="text" id="id" name="id" value="${draft.id ?? ''}" inputmode="numeric" pattern="[0-9]*" maxlength="10" aria-describedby="id-hint">
<span class="hint" id="id-hint">Keep the AFID an affiliate had in LinkTrust; leave empty for the next free one.</span></div>
${postbackUrlField(draft.postbackUrl, 'new-postback-hint')}
<div class="actions"><button type="submit">Create affiliate</button></div>
</form></section>`;
}

function tokenList(tokens: readonly PostbackToken[]): SafeHtml {
  return html`<details class="tokens"><summary>Tokens the postback URL accepts</summary>
<dl class="token-list">${tokens.map((t) => html`<dt><code>[=${t.token}=]</code></dt><dd>${t.meaning}</dd>`)}</dl>
<p class="hint">Tokens are matched in any letter case and may sit only in the path or the query, never in the host.</p></details>`;
}

function testResult(result: TestPostbackResult): SafeHtml {
  const answer =
    result.status !== undefined
      ? html`<dt>Status</dt><dd><span class="${result.ok ? 'state state-delivered' : 'state state-failed'}">${result.status}</span></dd>
<dt>Body (first bytes)</dt><dd>${result.body ? html`<pre class="code-box">${result.body}</pre>` : html`<span class="muted">empty</span>`}</dd>`
      : html``;
  return html`<div class="${result.ok ? 'notice' : 'problem'}" role="status" id="test-result">
<strong>${result.ok ? 'The receiver answered with success.' : 'The test postback failed.'}</strong>
<dl class="facts"><dt>Sent to</dt><dd><code class="code-box">${result.url}</code></dd>${answer}
${result.error ? html`<dt>Error</dt><dd>${result.error}</dd>` : ''}<dt>Time</dt><dd>${result.ms} ms</dd></dl></div>`;
}

/** One affiliate: its facts, the edit form with the token list, and the test postback. */
export function affiliateView(input: {
  affiliate: Affiliate;
  session: PageSession;
  tokens: readonly PostbackToken[];
  draft?: AffiliateDraft;
  testResult?: TestPostbackResult;
}): SafeHtml {
  const { affiliate: a, session } = input;
  const draft = input.draft ?? { name: a.name, postbackUrl: a.postbackUrl ?? '' };
  return html`<section class="card" aria-labelledby="facts-h"><h2 id="facts-h">Affiliate</h2>
<dl class="facts"><dt>AFID</dt><dd>${a.id}</dd><dt>Name</dt><dd>${a.name}</dd>
<dt>Postback URL</dt><dd>${a.postbackUrl ? html`<code class="code-box">${a.postbackUrl}</code>` : html`<span class="muted">None</span>`}</dd>
<dt>Created</dt><dd>${time(a.createdAt)}</dd><dt>Updated</dt><dd>${time(a.updatedAt)}</dd></dl></section>
<section class="card" aria-labelledby="edit-h"><h2 id="edit-h">Edit</h2>
<form class="stack wide" method="post" action="/admin/affiliates/${a.id}">${csrfField(session)}
<div class="field"><label for="name">Name</label><input type="text" id="name" name="name" value="${draft.name}" required maxlength="255"></div>
${postbackUrlField(draft.postbackUrl, 'postback-hint')}
${tokenList(input.tokens)}
<div class="actions"><button type="submit">Save affiliate</button></div>
</form></section>
<section class="card" aria-labelledby="test-h"><h2 id="test-h">Test postback</h2>
<p class="hint">Sends one request to the saved postback URL with sample values (click id <code>test-click</code>, payout 1.00), through the same delivery and private-network guard as real postbacks. Nothing is recorded against a transaction.</p>
${input.testResult ? testResult(input.testResult) : ''}
<form method="post" action="/admin/affiliates/${a.id}/test-postback">${csrfField(session)}
<div class="actions"><button type="submit" class="secondary"${a.postbackUrl ? '' : html` disabled`}>Send a test postback</button>${a.postbackUrl ? '' : html`<span class="hint">Save a postback URL first.</span>`}</div>
</form></section>`;
}
