import { html, SafeHtml } from '../html';
import { MIN_PASSWORD_LENGTH } from '../../merchants/merchant-user-service';

/** The one-time link's form: the user chooses its password, typed twice. */
export function setPasswordView(input: { formToken: string; token: string; email: string; name: string }): SafeHtml {
  return html`<section class="card sign-in" aria-labelledby="set-password-h"><h2 id="set-password-h">Your new password</h2>
<p>Welcome, ${input.name}. You will sign in to the console with <strong>${input.email}</strong> and the password you choose here. This link works once.</p>
<form class="stack" method="post" action="/admin/set-password/${input.token}">
<input type="hidden" name="_csrf" value="${input.formToken}">
<input type="text" name="username" value="${input.email}" autocomplete="username" hidden>
<div class="field"><label for="password">New password</label><input type="password" id="password" name="password" autocomplete="new-password" required minlength="${String(MIN_PASSWORD_LENGTH)}" aria-describedby="password-hint" autofocus><span class="hint" id="password-hint">At least ${String(MIN_PASSWORD_LENGTH)} characters.</span></div>
<div class="field"><label for="again">The same password again</label><input type="password" id="again" name="again" autocomplete="new-password" required></div>
<div class="actions"><button type="submit">Set password</button></div>
</form></section>`;
}
