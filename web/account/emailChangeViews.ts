import { html, type Html } from '../../platform/html.ts';
import { field, form, type FieldErrors } from '../shared/forms.ts';
import { messagePage, notice } from '../shared/layout.ts';
import type { CurrentAddress } from './emailChangeQueries.ts';

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

/**
 * What the mail server's refusal of the address means for the account, by its codes (never its words). A standing
 * state of the page, not the answer to a form: shown as a warning, without taking the focus.
 */
const refusedNotice = ({ detail, at }: NonNullable<CurrentAddress['refused']>) =>
  html`<p class="notice bad" id="email-refused">The mail server refused this address for good (${detail}) on <time datetime="${at.toISOString()}">${at.toISOString().slice(0, 10)}</time>: alert emails to it are paused. Change it below, or have it tried again from <a href="/alerts">your alerts page</a>.</p>`;

/** The account page's section on the address: which one is in use, and the form that changes it. */
export const emailSection = (
  csrf: string,
  current: CurrentAddress,
  values: EmailChangeValues = {},
  errors: FieldErrors = {},
): Html =>
  html`<section class="account-email" aria-labelledby="email-heading">
<h2 id="email-heading">Email address</h2>
<p>Alert emails and password reset links go to <strong>${current.email}</strong>.</p>
${current.refused ? refusedNotice(current.refused) : ''}
${emailChangeForm(csrf, values, errors)}
<p class="muted">We email a link to the new address. Your address changes only when you follow it, within 24 hours; then we tell ${current.email}.</p>
</section>`;

/** The section on a page of its own (GET /account/email), until the account page holds it. */
export const emailChangePage = (
  csrf: string,
  current: CurrentAddress,
  values: EmailChangeValues = {},
  errors: FieldErrors = {},
): Html => html`<h1>Change your email address</h1>${emailSection(csrf, current, values, errors)}`;

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
