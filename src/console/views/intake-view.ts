import type { IntakeView } from '../../intake/intake-service';
import type { PullResult } from '../../intake/pull-run';
import { html, SafeHtml, time } from '../html';
import { csrfField, PageSession } from './layout';

/** What the page shows once, right after an action: a new user's password, or what a pull did. */
export type IntakeOnce =
  { kind: 'credentials'; username: string; password: string } | { kind: 'pull'; result: PullResult } | null;

function once(value: IntakeOnce): SafeHtml | string {
  if (value === null) return '';
  if (value.kind === 'credentials')
    return html`<section class="card" role="status"><h2>New upload user</h2>
<p>User name <code>${value.username}</code>, password <code>${value.password}</code>.</p>
<p class="hint">The password is shown this once: give it to the brand now, through a secure channel.</p></section>`;
  const { result } = value;
  return html`<section class="card" role="status"><h2>Pull</h2>${
    result.error
      ? html`<p>The pull failed: <code>${result.error}</code></p>`
      : result.taken.length === 0
        ? html`<p>Nothing new.</p>`
        : html`<ul>${result.taken.map((t) => html`<li><code>${t.name}</code>: ${t.batchId ? html`<a href="/admin/batches">batch ${t.batchId}</a>` : t.error}</li>`)}</ul>`
  }</section>`;
}

const checked = (on: boolean) => (on ? html` checked` : '');

/** A campaign's Intake page: settings, upload users, e-mail address, pull and its last attempt. */
export function intakeView(input: { intake: IntakeView; session: PageSession; once: IntakeOnce }): SafeHtml {
  const { intake: i, session } = input;
  const base = `/admin/campaigns/${i.campaignId}/intake`;
  const pull = i.pull;
  const protocols = ['', 'ftp', 'ftps', 'sftp'].map(
    (p) =>
      html`<option value="${p}"${pull?.protocol === p || (!pull && p === '') ? html` selected` : ''}>${p || 'off'}</option>`,
  );
  const users = i.users.length
    ? html`<div class="table-wrap"><table class="stack"><caption>Upload users (FTP and SFTP)</caption>
<thead><tr><th scope="col">User</th><th scope="col">Created</th><th scope="col">Revoked</th><th scope="col">Action</th></tr></thead>
<tbody>${i.users.map(
        (
          u,
        ) => html`<tr><td data-label="User"><code>${u.username}</code></td><td data-label="Created">${time(u.createdAt)}</td>
<td data-label="Revoked">${u.revokedAt ? time(u.revokedAt) : html`<span class="muted">—</span>`}</td>
<td data-label="Action">${
          u.revokedAt
            ? ''
            : html`<form method="post" action="${base}/credentials/${u.username}/revoke" data-confirm="Revoke ${u.username}?">${csrfField(session)}<button type="submit" class="danger small">Revoke</button></form>`
        }</td></tr>`,
      )}</tbody></table></div>`
    : html`<p>No upload users.</p>`;
  const last = i.lastPull
    ? html`${time(i.lastPull.at)}: ${i.lastPull.error ? html`failed: <code>${i.lastPull.error}</code>` : `took ${i.lastPull.taken} file(s)`}`
    : 'never';
  return html`${once(input.once)}
<section class="card" aria-labelledby="settings-h"><h2 id="settings-h">Settings</h2>
<form class="stack" method="post" action="${base}">${csrfField(session)}
<div class="field"><label><input type="checkbox" name="upload" value="on"${checked(i.upload)}> Take files uploaded by FTP/FTPS/SFTP</label></div>
<div class="field"><label><input type="checkbox" name="email" value="on"${checked(i.email)}> Take files e-mailed to the campaign’s address</label></div>
<div class="field"><label for="protocol">Pull from the brand’s server</label><select id="protocol" name="protocol">${protocols}</select></div>
<div class="field"><label for="host">Host</label><input type="text" id="host" name="host" value="${pull?.host ?? ''}" maxlength="255" autocomplete="off"></div>
<div class="field"><label for="port">Port</label><input type="text" id="port" name="port" value="${pull ? String(pull.port) : ''}" inputmode="numeric" maxlength="5"></div>
<div class="field"><label for="directory">Directory</label><input type="text" id="directory" name="directory" value="${pull?.directory ?? '/'}" maxlength="1024"></div>
<div class="field"><label for="username">User name</label><input type="text" id="username" name="username" value="${pull?.username ?? ''}" maxlength="255" autocomplete="off"></div>
<div class="field"><label for="password">Password</label><input type="password" id="password" name="password" value="" maxlength="1024" autocomplete="new-password" aria-describedby="password-hint"><span class="hint" id="password-hint">${pull?.passwordSet ? 'Set; leave empty to keep it.' : 'Needed to pull.'} It is never shown.</span></div>
<div class="actions"><button type="submit">Save intake settings</button></div>
</form></section>
<section class="card" aria-labelledby="users-h"><h2 id="users-h">Upload users</h2>
${users}
<form class="inline" method="post" action="${base}/credentials">${csrfField(session)}
<div class="field"><label for="new-user">New user name</label><input type="text" id="new-user" name="username" value="" maxlength="64" placeholder="generated when empty" autocomplete="off"></div>
<button type="submit">Create upload user</button></form></section>
<section class="card" aria-labelledby="email-h"><h2 id="email-h">E-mail address</h2>
<p>${i.emailAddress ? html`<code>${i.emailAddress}</code>` : 'E-mail intake is off.'}</p>
${i.email ? html`<form method="post" action="${base}/email-address" data-confirm="Give the campaign a new address? The old one stops working at once.">${csrfField(session)}<button type="submit" class="secondary">New address</button></form>` : ''}
</section>
<section class="card" aria-labelledby="pull-h"><h2 id="pull-h">Pull</h2>
<p>Last attempt: ${last}</p>
${pull ? html`<form method="post" action="${base}/pull">${csrfField(session)}<button type="submit" class="secondary">Pull now</button></form>` : ''}
</section>`;
}
