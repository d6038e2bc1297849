import { html, type Html } from '../../platform/html.ts';
import { csrfField, field, formError, type FieldErrors } from '../shared/forms.ts';

/** What a deletion erases, said once: the confirmation page lists it, the account page's section sums it up. */
const ERASED = [
  'your username, your email address and your password',
  'your alerts, the history of their triggers and the emails we recorded sending you',
  'your activity history',
  'every session: you are logged out everywhere',
] as const;

/** The account page's section on deleting the account: where the confirmation step starts. */
export function deleteSection(): Html {
  return html`<section id="delete-account" class="account-section" aria-labelledby="delete-account-title">
<h2 id="delete-account-title">Delete your account</h2>
<p>Erases your account and everything in it, for good. You confirm with your password on the next page.</p>
<p><a href="/account/delete">Delete my account…</a></p>
</section>`;
}

/** The confirmation step's form: the password, beside which a wrong one is refused. */
export function deleteForm(csrf: string, errors: FieldErrors = {}): Html {
  return html`<form class="stack" method="post" action="/account/delete" hx-post="/account/delete" hx-swap="outerHTML" novalidate>
  ${csrfField(csrf)}${formError(errors.form)}
  ${field({ name: 'password', label: 'Your password, to confirm', type: 'password', error: errors.password, autocomplete: 'current-password' })}
  <div class="row"><button class="danger" type="submit">Delete my account for good</button><a href="/alerts">Cancel</a></div>
</form>`;
}

/** GET /account/delete: what will be erased, that it cannot be undone, and the password to confirm it. */
export function deletePage(csrf: string, username: string, errors: FieldErrors = {}): Html {
  return html`<h1>Delete your account</h1>
<p>Deleting the account <strong>${username}</strong> erases, at once and for good:</p>
<ul>
${ERASED.map(
  (what) => html`  <li>${what}</li>
`,
)}</ul>
<p><strong>This cannot be undone.</strong> Nothing can be restored afterwards, by you or by us. The username becomes free,
and anyone may register it as a new account that has nothing of yours.</p>
<p>We send one last email to your address to confirm the deletion; after it, nothing more.</p>
${deleteForm(csrf, errors)}`;
}

/** After the deletion: the session has ended, and nothing of the account is left. */
export const deletedPage = () =>
  html`<h1>Your account was deleted</h1>
<p>Your account and everything in it were erased, and you are logged out. A last email confirming it is on its way to the address the account had.</p>
<p><a href="/register">Create a new account</a></p>`;
