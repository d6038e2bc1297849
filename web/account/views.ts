import { html, type Html } from '../../platform/html.ts';
import { csrfField, field, formError, type FieldErrors } from '../shared/forms.ts';
import { notice } from '../shared/layout.ts';
import { deleteSection } from './deleteViews.ts';
import type { CurrentAddress } from './emailChangeQueries.ts';
import { emailSection } from './emailChangeViews.ts';
import type { OpenSession } from './queries.ts';

/** What the account page shows: each section takes from it what it needs. */
export type AccountView = {
  csrf: string;
  /** The address in use, opened with the person's key, and the mail server's refusal of it if any. */
  address: CurrentAddress;
  sessions: { sessions: readonly OpenSession[]; total: number };
  /** The password form's errors, or that it just changed the password. */
  password?: { errors: FieldErrors } | { changed: true };
  /** What "Log out everywhere else" just did. */
  sessionsNotice?: Html;
};

/** One section of the account page: a `<section>` whose id its forms' htmx answers replace (`outOfBand`: as an extra). */
type Section = (view: AccountView, options?: { outOfBand?: boolean }) => Html;

const when = (at: Date) =>
  html`<time datetime="${at.toISOString()}">${at.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>`;

const section = (id: string, title: string, content: Html, outOfBand = false) =>
  html`<section id="${id}" class="account-section" aria-labelledby="${id}-title"${outOfBand ? html` hx-swap-oob="true"` : ''}>
<h2 id="${id}-title">${title}</h2>
${content}
</section>`;

/** Change the password: the current one proves it is the owner; every other session ends, this one stays. */
export const passwordSection: Section = (view, options = {}) => {
  const errors = view.password && 'errors' in view.password ? view.password.errors : {};
  const changed = view.password && 'changed' in view.password;
  return section(
    'password',
    'Password',
    html`${changed ? notice('good', 'Your password was changed. Every other session was logged out; this one stays logged in.') : ''}
<form class="stack" method="post" action="/account/password" hx-post="/account/password" hx-target="#password" hx-swap="outerHTML" novalidate>
  ${csrfField(view.csrf)}${formError(errors.form)}
  ${field({ name: 'currentPassword', label: 'Current password', type: 'password', error: errors.currentPassword, autocomplete: 'current-password' })}
  ${field({ name: 'newPassword', label: 'New password (at least 10 characters)', type: 'password', error: errors.newPassword, autocomplete: 'new-password' })}
  <button type="submit">Change password</button>
</form>
<p class="muted">Changing it logs out every other session, on any device; this one stays logged in.</p>`,
    options.outOfBand,
  );
};

/** The open sessions, this one marked, and the button that ends every other one. */
export const sessionsSection: Section = (view, options = {}) => {
  const { sessions, total } = view.sessions;
  const others = total - sessions.filter((s) => s.current).length;
  const more =
    total > sessions.length
      ? html`<p class="muted">This session and the ${sessions.length - 1} newest others of ${total} open sessions.</p>`
      : '';
  return section(
    'sessions',
    'Sessions',
    html`${view.sessionsNotice ?? ''}<p class="muted">Where you are logged in. A session ends when it logs out, after 7 days, or when the password changes.</p>
<table class="sessions">
<thead><tr><th scope="col">Logged in</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Which</span></th></tr></thead>
<tbody>
${sessions.map(
  (s) =>
    html`<tr${s.current ? html` class="current"` : ''}><td data-label="Logged in">${when(s.openedAt)}</td><td data-label="Expires">${when(s.expiresAt)}</td><td>${s.current ? html`<strong>This session</strong>` : ''}</td></tr>`,
)}
</tbody>
</table>
${more}${
      others > 0
        ? html`<form class="end-others" method="post" action="/account/sessions/end-others" hx-post="/account/sessions/end-others" hx-target="#sessions" hx-swap="outerHTML">
  ${csrfField(view.csrf)}<button class="danger" type="submit">Log out everywhere else</button>
</form>`
        : html`<p>No other session is open.</p>`
    }`,
    options.outOfBand,
  );
};

/** The data export: one JSON file of everything the service holds about the person. */
export const yourDataSection: Section = (_view, options = {}) =>
  section(
    'your-data',
    'Your data',
    html`<p>Download everything we hold about you as one JSON file: your account, your alerts (deleted ones too), when they triggered, and your own events from the event log with their times.</p>
<p><a class="button" href="/account/export" download>Download my data</a></p>
<p class="muted">Password and link hashes are left out: they are secrets of signing in, not information about you.</p>`,
    options.outOfBand,
  );

/** Where the alert digests go besides the email: the channels page (web/channels/). */
export const channelsSection: Section = (_view, options = {}) =>
  section(
    'channels',
    'Channels',
    html`<p>Send your alert digests to Slack, Discord or any HTTPS endpoint as well as by email.</p>
<p><a href="/channels">Your channels</a></p>`,
    options.outOfBand,
  );

/** The address in use and the form that changes it (emailChangeViews.ts, with its routes in emailChangeRoutes.ts). */
const emailAddressSection: Section = (view) => emailSection(view.csrf, view.address);

/** The sections, top to bottom: a new section is one function like those above and its place in this list. */
const sections: readonly Section[] = [
  emailAddressSection,
  passwordSection,
  sessionsSection,
  channelsSection,
  yourDataSection,
  () => deleteSection(),
];

export function accountPage(view: AccountView): Html {
  return html`<h1>Your account</h1>
${sections.map((s) => s(view))}`;
}
