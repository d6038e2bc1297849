import type { FastifyInstance } from 'fastify';
import { escapeHtml, html, trusted } from '../../platform/html.ts';
import type { WebDeps } from '../deps.ts';
import { sendPage } from '../shared/respond.ts';
import { fromThisMachine } from './localClient.ts';

/**
 * The all-in-one start's mailbox: every email the system sent, with clickable links. It holds every verification
 * and reset link, so it is given only to the all-in-one start (cli/start.ts decides) and shown only to this machine.
 */
export async function devMailboxRoutes(app: FastifyInstance, deps: WebDeps) {
  const box = deps.devMailbox;
  if (!box) return;
  app.get('/dev/mailbox', async (request, reply) => {
    if (!fromThisMachine(request)) return reply.callNotFound();
    const mails = await box.list();
    const body = html`<h1>Dev mailbox</h1>
<p class="muted">Emails sent while no SMTP_URL is set land here instead of a mail server.</p>
${
  mails.length === 0
    ? html`<p>No email yet.</p>`
    : html`<table><thead><tr><th>When</th><th>To</th><th>Subject</th></tr></thead><tbody>
${mails.map((m) => html`<tr><td>${m.date.replace('T', ' ').slice(0, 19)}</td><td>${m.to}</td><td><a href="/dev/mailbox/${m.id}">${m.subject}</a></td></tr>`)}
</tbody></table>`
}`;
    return sendPage(request, reply, { title: 'Dev mailbox', body });
  });
  app.get<{ Params: { id: string } }>('/dev/mailbox/:id', async (request, reply) => {
    if (!fromThisMachine(request)) return reply.callNotFound();
    const mail = await box.read(request.params.id);
    if (!mail) return reply.callNotFound();
    // Escape the text part, then turn its http(s) links into anchors.
    const linked = escapeHtml(mail.text).replace(/https?:\/\/[^\s<]+/g, (url) => `<a href="${url}">${url}</a>`);
    const body = html`<h1>${mail.subject}</h1><p class="muted">To ${mail.to} · ${mail.date}</p><pre class="mail">${trusted(linked)}</pre><p><a href="/dev/mailbox">Back to the mailbox</a></p>`;
    return sendPage(request, reply, { title: mail.subject, body });
  });
}
