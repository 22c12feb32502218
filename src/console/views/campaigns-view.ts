import type { Campaign } from '../../store/campaign-store';
import type { WhitelistEntry } from '../../store/whitelist-store';
import { html, pathWithQuery, SafeHtml, time, yesNo } from '../html';
import type { PostingUrl } from '../posting-urls';
import { csrfField, PageSession } from './layout';

/** What the new-campaign form was given, to show again after a refusal. */
export interface CampaignDraft {
  id: string;
  name: string;
}

/** The campaigns list with its search box and the form to create one. */
export function campaignListView(
  campaigns: Campaign[],
  search: string,
  limit: number,
  create: { session: PageSession; draft?: CampaignDraft },
): SafeHtml {
  const draft = create.draft ?? { id: '', name: '' };
  const rows = campaigns.map(
    (c) => html`<tr>
  <td data-label="CID" class="num">${c.id}</td>
  <td data-label="Name"><a href="/admin/campaigns/${c.id}">${c.name}</a></td>
  <td data-label="External modifications">${yesNo(c.allowExternalModification)}</td>
  <td data-label="Password set">${yesNo(c.passwordHash !== null)}</td>
  <td data-label="White-listed IPs only">${yesNo(c.whitelistOnly)}</td>
  <td data-label="Unique merchant ref.">${yesNo(c.uniqueMerchantReference)}</td>
</tr>`,
  );
  const table = campaigns.length
    ? html`<div class="table-wrap"><table class="stack">
<caption>${campaigns.length === limit ? `First ${limit} campaigns` : `${campaigns.length} campaign${campaigns.length === 1 ? '' : 's'}`}${search ? ` matching “${search}”` : ''}</caption>
<thead><tr><th scope="col" class="num">CID</th><th scope="col">Name</th><th scope="col">External modifications</th><th scope="col">Password set</th><th scope="col">White-listed IPs only</th><th scope="col">Unique merchant ref.</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p>No campaigns${search ? html` match “${search}”` : ''}.</p>`;
  return html`<section class="card">
<form class="inline" method="get" action="/admin/campaigns" role="search">
  <div class="field"><label for="q">Search by name or CID</label><input type="search" id="q" name="q" value="${search}"></div>
  <button type="submit">Search</button>${search ? html` <a class="button secondary" href="/admin/campaigns">Clear</a>` : ''}
</form>
</section>
<section class="card">${table}</section>
<section class="card" aria-labelledby="new-h"><h2 id="new-h">New campaign</h2>
<p class="hint">A new campaign takes no external modifications until you set its password and turn them on.</p>
<form class="stack" method="post" action="/admin/campaigns">${csrfField(create.session)}
<div class="field"><label for="name">Name</label><input type="text" id="name" name="name" value="${draft.name}" required maxlength="255"></div>
<div class="field"><label for="id">CID <span class="muted">(optional)</span></label><input type="text" id="id" name="id" value="${draft.id}" inputmode="numeric" pattern="[0-9]*" maxlength="10" aria-describedby="id-hint">
<span class="hint" id="id-hint">Keep the CID the campaign had in LinkTrust; leave empty for the next free one.</span></div>
<div class="actions"><button type="submit">Create campaign</button></div>
</form></section>`;
}

function checkbox(name: string, label: string, hint: string, checked: boolean): SafeHtml {
  return html`<div class="check"><input type="checkbox" id="${name}" name="${name}" value="on"${checked ? html` checked` : ''} aria-describedby="${name}-hint">
<div><label for="${name}">${label}</label><span class="hint" id="${name}-hint">${hint}</span></div></div>`;
}

function warnings(campaign: Campaign, whitelistCount: number): SafeHtml {
  const list: string[] = [];
  if (!campaign.allowExternalModification)
    list.push('External modifications are off: /transaction.edit refuses every change to this campaign.');
  if (campaign.passwordHash === null) list.push('No password is set: every modification is refused until one is.');
  if (campaign.whitelistOnly && whitelistCount === 0)
    list.push(
      'Only white-listed IPs may modify, but no global or campaign entry exists: every modification is refused.',
    );
  return list.length
    ? html`<div class="problem" role="note"><strong>Heads up</strong><ul>${list.map((w) => html`<li>${w}</li>`)}</ul></div>`
    : html``;
}

/**
 * A URL that may wrap only where a reader expects it to: before a path's slash, after the `?` and before
 * each `&`, never inside a name or a value (as a plain wrap of a long word would).
 */
export function breakableUrl(url: string): SafeHtml {
  const [address, query] = url.split(/\?(.*)/s, 2);
  // The origin stays whole; the path may wrap before each of its slashes.
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(address)?.[0] ?? '';
  const segments = address
    .slice(origin.length)
    .split('/')
    .map((segment, index) => (index === 0 ? html`${segment}` : html`<wbr>/${segment}`));
  if (query === undefined) return html`${origin}${segments}`;
  const parameters = query.split('&').map((part, index) => (index === 0 ? html`${part}` : html`<wbr>&amp;${part}`));
  return html`${origin}${segments}?<wbr>${parameters}`;
}

/** One campaign: its settings, password, posting URLs and white-list. */
export function campaignView(input: {
  campaign: Campaign;
  session: PageSession;
  urls: PostingUrl[];
  campaignEntries: WhitelistEntry[];
  globalCount: number;
}): SafeHtml {
  const { campaign: c, session, urls } = input;
  const urlBlocks = urls.map(
    (u, i) => html`<div class="posting-url">
  <span class="label" id="posting-url-${i}-label"><strong>${u.label}</strong>${u.usable ? '' : html` <span class="muted">(not usable yet)</span>`}</span>
  <div class="row"><code class="code-box url" id="posting-url-${i}" aria-labelledby="posting-url-${i}-label"${u.reason ? html` aria-describedby="posting-url-${i}-why"` : ''}>${breakableUrl(u.url)}</code>
  <button type="button" class="secondary" data-copy="posting-url-${i}" hidden>Copy</button></div>
  ${u.reason ? html`<span class="hint" id="posting-url-${i}-why">${u.reason}</span>` : ''}
</div>`,
  );
  const entries = input.campaignEntries.length
    ? html`<ul>${input.campaignEntries.map((e) => html`<li><code>${e.address}</code>${e.note ? html` — ${e.note}` : ''}</li>`)}</ul>`
    : html`<p>No entries for this campaign.</p>`;
  return html`${warnings(c, input.campaignEntries.length + input.globalCount)}
<section class="card" aria-labelledby="facts-h"><h2 id="facts-h">Campaign</h2>
<dl class="facts"><dt>CID</dt><dd>${c.id}</dd><dt>Name</dt><dd>${c.name}</dd><dt>Password</dt><dd>${c.passwordHash ? 'Set (never shown)' : 'Not set'}</dd>
<dt>Created</dt><dd>${time(c.createdAt)}</dd><dt>Updated</dt><dd>${time(c.updatedAt)}</dd></dl>
<form class="inline rename" method="post" action="/admin/campaigns/${c.id}/name">${csrfField(session)}
<div class="field"><label for="campaign-name">New name</label><input type="text" id="campaign-name" name="name" value="${c.name}" required maxlength="255"></div>
<button type="submit" class="secondary">Rename</button>
</form></section>
<div class="grid-2">
<section class="card" aria-labelledby="settings-h"><h2 id="settings-h">Conversion tracking options</h2>
<form class="stack" method="post" action="/admin/campaigns/${c.id}/settings">${csrfField(session)}
<fieldset><legend>Transaction Modification API</legend>
${checkbox('allowExternalModification', 'Allow External Transaction Modifications', 'Lets merchants change this campaign’s transactions through /transaction.edit.', c.allowExternalModification)}
${checkbox('whitelistOnly', 'Only Allow Modifications from White Listed IPs', 'Requests must come from a global or campaign white-list entry.', c.whitelistOnly)}
${checkbox('uniqueMerchantReference', 'Enforce a unique merchant reference ID', 'Needed to identify transactions by Merchantreferenceid + CID.', c.uniqueMerchantReference)}
</fieldset>
<div class="actions"><button type="submit">Save settings</button></div>
</form></section>
<section class="card" aria-labelledby="password-h"><h2 id="password-h">${c.passwordHash ? 'Rotate the password' : 'Set the password'}</h2>
<p class="hint">The Custom Password merchants send as <code>Password=</code>. It is stored hashed and never shown again. At most 72 bytes.</p>
<form class="stack" method="post" action="/admin/campaigns/${c.id}/password" data-match="password,confirm">${csrfField(session)}
<div class="field"><label for="password">New password</label><input type="password" id="password" name="password" autocomplete="new-password" required maxlength="72"></div>
<div class="field"><label for="confirm">Type it again</label><input type="password" id="confirm" name="confirm" autocomplete="new-password" required maxlength="72"></div>
<div class="actions"><button type="submit">${c.passwordHash ? 'Rotate password' : 'Set password'}</button></div>
</form></section>
</div>
<section class="card" aria-labelledby="urls-h"><h2 id="urls-h">Posting URLs</h2>
<p class="hint">Ready to copy, as in LinkTrust’s samples. Replace each <code>value</code> (the password and the identifier) and adjust <code>A</code>, <code>AP</code>, <code>MP</code>; parameters may come in any order, and <code>REASON</code> may be added.</p>
${urlBlocks}
</section>
<section class="card" aria-labelledby="wl-h"><h2 id="wl-h">White-listed IPs for this campaign</h2>
${entries}
<p class="hint">${input.globalCount} global entr${input.globalCount === 1 ? 'y applies' : 'ies apply'} to every campaign as well.</p>
<p><a href="${pathWithQuery('/admin/whitelist', { campaignId: c.id })}">Add or remove entries for campaign ${c.id}</a></p>
</section>
<section class="card" aria-labelledby="intake-h"><h2 id="intake-h">File intake</h2>
<p><a href="/admin/campaigns/${c.id}/intake">FTP/SFTP upload users, e-mail address and pull from the brand’s server</a></p>
</section>`;
}
