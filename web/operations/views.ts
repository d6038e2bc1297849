import type { StoredEmail } from '../../platform/devMailbox.ts';
import { escapeHtml, html, trusted, type Html } from '../../platform/html.ts';

export function mailboxPage(mails: readonly StoredEmail[]): Html {
  return html`<h1>Dev mailbox</h1>
<p class="muted">Emails sent while no SMTP_URL is set land here instead of a mail server.</p>
${
  mails.length === 0
    ? html`<p>No email yet.</p>`
    : html`<table class="mailbox stacked"><thead><tr><th scope="col">When (UTC)</th><th scope="col">To</th><th scope="col">Subject</th></tr></thead><tbody>
${mails.map((m) => html`<tr><td class="when">${m.date.replace('T', ' ').slice(0, 19)}</td><td class="to">${m.to}</td><td><a href="/dev/mailbox/${m.id}">${m.subject}</a></td></tr>`)}
</tbody></table>`
}`;
}

export function mailPage(mail: StoredEmail): Html {
  // Escape the text part, then turn its http(s) links into anchors.
  const linked = escapeHtml(mail.text).replace(/https?:\/\/[^\s<]+/g, (url) => `<a href="${url}">${url}</a>`);
  return html`<h1>${mail.subject}</h1><p class="muted">To ${mail.to} · ${mail.date}</p><pre class="mail">${trusted(linked)}</pre><p><a href="/dev/mailbox">Back to the mailbox</a></p>`;
}
