import type { ApiAccountView } from '../../impact-api/api-account-service';
import { html, SafeHtml, time } from '../html';
import { csrfField, PageSession } from './layout';

/** What the create form shows again after a refused submission. */
export interface ApiAccountForm {
  name: string;
  campaignIds: string;
}

/** A new account's credentials, shown on the page that answers its creation and never again. */
export interface NewCredentials {
  accountSid: string;
  authToken: string;
}

function accountRows(accounts: ApiAccountView[], session: PageSession): SafeHtml[] {
  return accounts.map(
    (a) => html`<tr>
  <td data-label="Account SID"><code>${a.accountSid}</code></td>
  <td data-label="Name">${a.name}</td>
  <td data-label="Campaigns">${a.campaignIds.map((id, i) => html`${i > 0 ? ', ' : ''}<a href="/admin/campaigns/${id}">${id}</a>`)}</td>
  <td data-label="Created">${time(a.createdAt)}</td>
  <td data-label="Status">${a.revokedAt === null ? html`<span class="flag flag-yes">Active</span>` : html`<span class="flag flag-no">Revoked</span> ${time(a.revokedAt)}`}</td>
  <td data-label="Action">${
    a.revokedAt === null
      ? html`<form method="post" action="/admin/api-accounts/${a.accountSid}/revoke" data-confirm="Revoke ${a.accountSid}? Its token stops working at once.">${csrfField(session)}
    <button type="submit" class="danger small">Revoke<span class="visually-hidden"> ${a.accountSid}</span></button></form>`
      : html`<span class="muted">—</span>`
  }</td>
</tr>`,
  );
}

function credentialsCard(created: NewCredentials): SafeHtml {
  return html`<section class="card" aria-labelledby="token-h"><h2 id="token-h">New account’s credentials</h2>
<p><strong>The auth token is shown only now.</strong> Give both to the brand through a secure channel; only a hash of the token is kept, so it cannot be shown again (revoke the account and create another if it is lost).</p>
<dl>
<dt>Account SID</dt><dd><code id="new-account-sid">${created.accountSid}</code></dd>
<dt>Auth token</dt><dd><code id="new-auth-token">${created.authToken}</code></dd>
</dl>
<p class="hint">The brand’s client calls <code>https://this-host/Advertisers/${created.accountSid}/Actions</code> with HTTP Basic <code>AccountSID:AuthToken</code>.</p>
</section>`;
}

/** The API accounts page: the new account's credentials (once), the create form, then every account. */
export function apiAccountsView(input: {
  accounts: ApiAccountView[];
  form: ApiAccountForm;
  session: PageSession;
  created?: NewCredentials;
}): SafeHtml {
  const { accounts, form, session, created } = input;
  const list =
    accounts.length === 0
      ? html`<h2>Accounts</h2><p>None yet.</p>`
      : html`<div class="table-wrap"><table class="stack"><caption>Accounts</caption>
<thead><tr><th scope="col">Account SID</th><th scope="col">Name</th><th scope="col">Campaigns</th><th scope="col">Created</th><th scope="col">Status</th><th scope="col">Action</th></tr></thead>
<tbody>${accountRows(accounts, session)}</tbody></table></div>`;
  return html`${created ? credentialsCard(created) : ''}<section class="card" aria-labelledby="add-h"><h2 id="add-h">Create an API account</h2>
<p class="hint">For a brand whose impact.com API client (<code>PUT</code>/<code>DELETE /Advertisers/{AccountSID}/Actions</code>) should work against txedit unchanged. The account may modify only its campaigns’ actions.</p>
<form class="stack" method="post" action="/admin/api-accounts">${csrfField(session)}
<div class="field"><label for="name">Name</label><input type="text" id="name" name="name" value="${form.name}" required maxlength="255" aria-describedby="name-hint"><span class="hint" id="name-hint">Whose client this is, e.g. “Acme returns robot”.</span></div>
<div class="field"><label for="campaignIds">Campaign IDs (CIDs)</label><input type="text" id="campaignIds" name="campaignIds" value="${form.campaignIds}" required maxlength="2000" spellcheck="false" aria-describedby="campaignIds-hint"><span class="hint" id="campaignIds-hint">One or more, separated by commas or spaces.</span></div>
<div class="actions"><button type="submit">Create account</button></div>
</form></section>
<section class="card">${list}</section>`;
}
