import { html, SafeHtml } from '../html';

/** The sign-in form: the admin token, or a name and password when ADMIN_USERS is set. */
export function signInView(input: { formToken: string; next: string; hasUsers: boolean; name: string }): SafeHtml {
  const nameField = input.hasUsers
    ? html`<div class="field"><label for="name">User name</label><input type="text" id="name" name="name" value="${input.name}" autocomplete="username" autocapitalize="none" spellcheck="false" aria-describedby="name-hint"><span class="hint" id="name-hint">Your user name, or the e-mail address a merchant user was created with; leave empty to sign in with the admin token.</span></div>`
    : '';
  return html`<section class="card sign-in" aria-labelledby="sign-in-h"><h2 id="sign-in-h">Your credentials</h2><p class="hint">The console manages campaigns, transactions, files and processing for this txedit network.</p>
<form class="stack" method="post" action="/admin/sign-in">
<input type="hidden" name="_csrf" value="${input.formToken}">
<input type="hidden" name="next" value="${input.next}">
${nameField}
<div class="field"><label for="secret">${input.hasUsers ? 'Password or admin token' : 'Admin token'}</label><input type="password" id="secret" name="secret" autocomplete="current-password" required autofocus></div>
<div class="actions"><button type="submit">Sign in</button></div>
</form></section>`;
}
