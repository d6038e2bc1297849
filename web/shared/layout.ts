import { html, type Html } from '../../platform/html.ts';
import { FAVICON_PATH } from './assets.ts';
import { csrfField } from './forms.ts';

export type PageContext = { csrfToken: string; user?: { username: string } | undefined };

/** The page shell: htmx from our own origin, the CSRF token as an inherited htmx header, no inline script. */
export function page(title: string, ctx: PageContext, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorCSS": false}'>
<title>${title} · Currency Ratio Alerter</title>
<link rel="icon" href="${FAVICON_PATH}" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css">
<script src="/assets/htmx.min.js" defer></script>
</head>
<body hx-headers:inherited='${JSON.stringify({ 'x-csrf-token': ctx.csrfToken })}'>
<a class="skip-link" href="#main">Skip to the page</a>
<header>
  <a class="brand" href="/">Currency Ratio Alerter</a>
  <nav>${
    ctx.user
      ? html`<a href="/alerts">Alerts</a><a href="/activity">Activity</a><a href="/account">Account</a><span class="muted">${ctx.user.username}</span>
    <form method="post" action="/logout">${csrfField(ctx.csrfToken)}<button class="link" type="submit">Log out</button></form>`
      : html`<a href="/login">Log in</a><a href="/register">Register</a>`
  }</nav>
</header>
<main id="main" tabindex="-1">
${body}
</main>
</body>
</html>`;
}

/**
 * A message on a page or in place of what htmx swapped out. The answer to an action (good or bad) takes the focus, as
 * htmx gives it to an [autofocus] element it swaps in: the button that was pressed is gone, and a screen reader reads
 * the answer out from there.
 */
export function notice(kind: 'good' | 'bad' | 'info', text: string | Html): Html {
  if (kind === 'info') return html`<p class="notice" role="status">${text}</p>`;
  return html`<p class="notice ${kind}" role="${kind === 'bad' ? 'alert' : 'status'}" tabindex="-1" autofocus>${text}</p>`;
}

/** A page that only says something, with an optional link onwards. */
export const messagePage = (title: string, text: string, link?: { href: string; label: string }) =>
  html`<h1>${title}</h1><p>${text}</p>${link ? html`<p><a href="${link.href}">${link.label}</a></p>` : ''}`;
