import { html, type Html } from '../../platform/html.ts';
import { field, form, type FieldErrors } from '../shared/forms.ts';
import { messagePage, notice } from '../shared/layout.ts';

/** Where the form posts, and the page that shows it on its own. */
export const EMAIL_CHANGE_PATH = '/account/email';

export type EmailChangeValues = { email?: string };

/**
 * The form: the new address and the current password. Its fields have ids of their own, so the account page can hold
 * it beside other forms with a password field.
 */
export const emailChangeForm = (csrf: string, values: EmailChangeValues, errors: FieldErrors = {}): Html =>
  form(
    EMAIL_CHANGE_PATH,
    csrf,
    errors,
    html`${field({ name: 'email', id: 'f-new-email', label: 'New email address', type: 'email', value: values.email ?? '', error: errors.email, autocomplete: 'email' })}
  ${field({ name: 'password', id: 'f-email-password', label: 'Your password', type: 'password', error: errors.password, autocomplete: 'current-password' })}`,
    'Email me a confirmation link',
  );

/** The account page's section on the address: which one is in use, and the form that changes it. */
export const emailSection = (
  csrf: string,
  currentEmail: string,
  values: EmailChangeValues = {},
  errors: FieldErrors = {},
): Html =>
  html`<section class="account-email" aria-labelledby="email-heading">
<h2 id="email-heading">Email address</h2>
<p>Alert emails and password reset links go to <strong>${currentEmail}</strong>.</p>
${emailChangeForm(csrf, values, errors)}
<p class="muted">We email a link to the new address. Your address changes only when you follow it, within 24 hours; then we tell ${currentEmail}.</p>
</section>`;

/** The section on a page of its own (GET /account/email), until the account page holds it. */
export const emailChangePage = (
  csrf: string,
  currentEmail: string,
  values: EmailChangeValues = {},
  errors: FieldErrors = {},
): Html => html`<h1>Change your email address</h1>${emailSection(csrf, currentEmail, values, errors)}`;

/** What a request that was taken says: the same whether or not another account uses the new address. */
export const linkSentText = (newEmail: string, currentEmail: string) =>
  `We sent a confirmation link to ${newEmail}. Follow it within 24 hours to make it your address; until then, alert emails and password reset links keep going to ${currentEmail}.`;

export const linkSentPage = (newEmail: string, currentEmail: string): Html =>
  html`<h1>Check your new inbox</h1>${notice('good', linkSentText(newEmail, currentEmail))}
<p class="muted"><a href="${EMAIL_CHANGE_PATH}">Back to your email address</a></p>`;

/** The link followed in time: the address changed. */
export const changedPage = (signedIn: boolean): Html =>
  messagePage(
    'Email address changed',
    'Your email address was changed. Alert emails and password reset links go to the new address from now on, and we told the previous one.',
    signedIn ? { href: EMAIL_CHANGE_PATH, label: 'Your email address' } : { href: '/login', label: 'Log in' },
  );
