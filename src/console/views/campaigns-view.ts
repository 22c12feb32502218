import type { Campaign } from '../../store/campaign-store';
import type { WhitelistEntry } from '../../store/whitelist-store';
import { html, pathWithQuery, SafeHtml, time, yesNo } from '../html';
import type { PostingUrl } from '../posting-urls';
import { SELF_SERVICE_OFF } from '../../merchants/merchant-campaigns';
import { csrfField, PageSession } from './layout';

/** What the new-campaign form was given, to show again after a refusal. */
export interface CampaignDraft {
  id: string;
  name: string;
}

/** The campaigns list with its search box and, for the network (`create` given), the form to create one. */
export function campaignListView(
  campaigns: Campaign[],
  search: string,
  limit: number,
  create: { session: PageSession; draft?: CampaignDraft } | null,
): SafeHtml {
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
${create ? newCampaignCard(create.session, create.draft ?? { id: '', name: '' }) : ''}`;
}

function newCampaignCard(session: PageSession, draft: CampaignDraft): SafeHtml {
  return html`<section class="card" aria-labelledby="new-h"><h2 id="new-h">New campaign</h2>
<p class="hint">A new campaign takes no external modifications until you set its password and turn them on.</p>
<form class="stack" method="post" action="/admin/campaigns">${csrfField(session)}
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

/** Who is looking: the network (everything), or a merchant user (may change only with self-service). */
export interface CampaignViewer {
  merchant: boolean;
  /** May set the password and change the campaign's white-list. */
  canChange: boolean;
}

/** What the campaign page's white-list form was given, to show again after a refusal. */
export interface WhitelistDraft {
  address: string;
  note: string;
}

function settingsCard(c: Campaign, session: PageSession, viewer: CampaignViewer): SafeHtml {
  if (viewer.merchant)
    return html`<section class="card" aria-labelledby="settings-h"><h2 id="settings-h">Conversion tracking options</h2>
<p class="hint">Set by the network.</p>
<dl class="facts"><dt>External modifications</dt><dd>${yesNo(c.allowExternalModification)}</dd>
<dt>White-listed IPs only</dt><dd>${yesNo(c.whitelistOnly)}</dd>
<dt>Unique merchant reference</dt><dd>${yesNo(c.uniqueMerchantReference)}</dd></dl></section>`;
  return html`<section class="card" aria-labelledby="settings-h"><h2 id="settings-h">Conversion tracking options</h2>
<form class="stack" method="post" action="/admin/campaigns/${c.id}/settings">${csrfField(session)}
<fieldset><legend>Transaction Modification API</legend>
${checkbox('allowExternalModification', 'Allow External Transaction Modifications', 'Lets merchants change this campaign’s transactions through /transaction.edit.', c.allowExternalModification)}
${checkbox('whitelistOnly', 'Only Allow Modifications from White Listed IPs', 'Requests must come from a global or campaign white-list entry.', c.whitelistOnly)}
${checkbox('uniqueMerchantReference', 'Enforce a unique merchant reference ID', 'Needed to identify transactions by Merchantreferenceid + CID.', c.uniqueMerchantReference)}
</fieldset>
<div class="actions"><button type="submit">Save settings</button></div>
</form></section>`;
}

function passwordCard(c: Campaign, session: PageSession, viewer: CampaignViewer): SafeHtml {
  const title = c.passwordHash ? 'Rotate the password' : 'Set the password';
  if (!viewer.canChange)
    return html`<section class="card" aria-labelledby="password-h"><h2 id="password-h">Password</h2>
<p>${SELF_SERVICE_OFF}</p></section>`;
  return html`<section class="card" aria-labelledby="password-h"><h2 id="password-h">${title}</h2>
<p class="hint">The Custom Password your CRM sends as <code>Password=</code>. It is stored hashed and never shown again. At most 72 bytes.</p>
<form class="stack" method="post" action="/admin/campaigns/${c.id}/password" data-match="password,confirm">${csrfField(session)}
<div class="field"><label for="password">New password</label><input type="password" id="password" name="password" autocomplete="new-password" required maxlength="72"></div>
<div class="field"><label for="confirm">Type it again</label><input type="password" id="confirm" name="confirm" autocomplete="new-password" required maxlength="72"></div>
<div class="actions"><button type="submit">${c.passwordHash ? 'Rotate password' : 'Set password'}</button></div>
</form></section>`;
}

function whitelistCard(input: {
  campaign: Campaign;
  session: PageSession;
  viewer: CampaignViewer;
  entries: WhitelistEntry[];
  globalCount: number;
  draft: WhitelistDraft;
}): SafeHtml {
  const { campaign: c, session, viewer, draft } = input;
  const removeButton = (e: WhitelistEntry) =>
    viewer.canChange
      ? html` <form class="inline-action" method="post" action="/admin/campaigns/${c.id}/whitelist/${e.id}/remove" data-confirm="Remove ${e.address} from the white-list?">${csrfField(session)}<button type="submit" class="danger small">Remove<span class="visually-hidden"> ${e.address}</span></button></form>`
      : html``;
  const entries = input.entries.length
    ? html`<ul class="entries">${input.entries.map((e) => html`<li><code>${e.address}</code>${e.note ? html` — ${e.note}` : ''}${removeButton(e)}</li>`)}</ul>`
    : html`<p>No entries for this campaign.</p>`;
  const global = viewer.merchant
    ? html`<p class="hint">The network’s global entries apply to every campaign as well.</p>`
    : html`<p class="hint">${input.globalCount} global entr${input.globalCount === 1 ? 'y applies' : 'ies apply'} to every campaign as well. <a href="${pathWithQuery('/admin/whitelist', { campaignId: c.id })}">The white-list page</a> lists them.</p>`;
  const form = viewer.canChange
    ? html`<form class="stack" method="post" action="/admin/campaigns/${c.id}/whitelist">${csrfField(session)}
<div class="field"><label for="wl-address">IP address or CIDR range</label><input type="text" id="wl-address" name="address" value="${draft.address}" required maxlength="64" autocomplete="off" spellcheck="false" aria-describedby="wl-address-hint"><span class="hint" id="wl-address-hint">An IPv4 or IPv6 address, or a range such as <code>203.0.113.0/24</code>.</span></div>
<div class="field"><label for="wl-note">Note <span class="muted">(optional)</span></label><input type="text" id="wl-note" name="note" value="${draft.note}" maxlength="255"></div>
<div class="actions"><button type="submit" class="secondary">Add to this campaign’s white-list</button></div>
</form>`
    : html`<p class="hint">${SELF_SERVICE_OFF}</p>`;
  return html`<section class="card" aria-labelledby="wl-h"><h2 id="wl-h">White-listed IPs for this campaign</h2>
${entries}${global}${form}</section>`;
}

/** One campaign: its settings, password, posting URLs and white-list (a merchant's narrower view too). */
export function campaignView(input: {
  campaign: Campaign;
  session: PageSession;
  viewer: CampaignViewer;
  urls: PostingUrl[];
  campaignEntries: WhitelistEntry[];
  globalCount: number;
  whitelistDraft?: WhitelistDraft;
}): SafeHtml {
  const { campaign: c, session, urls, viewer } = input;
  const urlBlocks = urls.map(
    (u, i) => html`<div class="posting-url">
  <span class="label" id="posting-url-${i}-label"><strong>${u.label}</strong>${u.usable ? '' : html` <span class="muted">(not usable yet)</span>`}</span>
  <div class="row"><code class="code-box url" id="posting-url-${i}" aria-labelledby="posting-url-${i}-label"${u.reason ? html` aria-describedby="posting-url-${i}-why"` : ''}>${breakableUrl(u.url)}</code>
  <button type="button" class="secondary" data-copy="posting-url-${i}" hidden>Copy</button></div>
  ${u.reason ? html`<span class="hint" id="posting-url-${i}-why">${u.reason}</span>` : ''}
</div>`,
  );
  const rename = viewer.merchant
    ? html``
    : html`<form class="inline rename" method="post" action="/admin/campaigns/${c.id}/name">${csrfField(session)}
<div class="field"><label for="campaign-name">New name</label><input type="text" id="campaign-name" name="name" value="${c.name}" required maxlength="255"></div>
<button type="submit" class="secondary">Rename</button>
</form>`;
  const intake = viewer.merchant
    ? html``
    : html`<section class="card" aria-labelledby="intake-h"><h2 id="intake-h">File intake</h2>
<p><a href="/admin/campaigns/${c.id}/intake">FTP/SFTP upload users, e-mail address and pull from the brand’s server</a></p>
</section>`;
  return html`${warnings(c, input.campaignEntries.length + input.globalCount)}
<section class="card" aria-labelledby="facts-h"><h2 id="facts-h">Campaign</h2>
<dl class="facts"><dt>CID</dt><dd>${c.id}</dd><dt>Name</dt><dd>${c.name}</dd><dt>Password</dt><dd>${c.passwordHash ? 'Set (never shown)' : 'Not set'}</dd>
<dt>Created</dt><dd>${time(c.createdAt)}</dd><dt>Updated</dt><dd>${time(c.updatedAt)}</dd></dl>
${rename}</section>
<div class="grid-2">
${settingsCard(c, session, viewer)}
${passwordCard(c, session, viewer)}
</div>
<section class="card" aria-labelledby="urls-h"><h2 id="urls-h">Posting URLs</h2>
<p class="hint">Ready to copy, as in LinkTrust’s samples. Replace each <code>value</code> (the password and the identifier) and adjust <code>A</code>, <code>AP</code>, <code>MP</code>; parameters may come in any order, and <code>REASON</code> may be added.</p>
${urlBlocks}
</section>
${whitelistCard({ campaign: c, session, viewer, entries: input.campaignEntries, globalCount: input.globalCount, draft: input.whitelistDraft ?? { address: '', note: '' } })}
${intake}`;
}
