import { html, type Html } from '../../platform/html.ts';

const unsubscribeAction = (token: string) => `/unsubscribe?token=${encodeURIComponent(token)}`;

export function unsubscribeConfirmPage(token: string): Html {
  return html`<h1>Stop alert emails?</h1>
<form class="stack" method="post" action="${unsubscribeAction(token)}">
  <p>You will get no more alert emails. Your alerts stay, and you can turn the emails back on from your alerts page.</p>
  <button type="submit">Stop alert emails</button>
</form>`;
}

export const unsubscribedPage = () =>
  html`<h1>Alert emails stopped</h1><p>You will get no more alert emails. Your alerts stay; you can turn the emails back on from <a href="/alerts">your alerts page</a>.</p>`;

export const unsubscribeInvalidPage = () =>
  html`<h1>Link not valid</h1><p>This unsubscribe link is not valid. Copy the whole link from the email, or log in and pause alert emails on <a href="/alerts">your alerts page</a>.</p>`;
