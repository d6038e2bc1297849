import type { FastifyInstance } from 'fastify';
import type { WebDeps } from '../deps.ts';
import { sendPage } from '../shared/respond.ts';
import { fromThisMachine } from './localClient.ts';
import { mailboxPage, mailPage } from './views.ts';

/**
 * The all-in-one start's mailbox: every email the system sent, with clickable links. It holds every verification
 * and reset link, so it is given only to the all-in-one start (cli/start.ts decides) and shown only to this machine.
 */
export async function devMailboxRoutes(app: FastifyInstance, deps: WebDeps) {
  const box = deps.devMailbox;
  if (!box) return;
  app.get('/dev/mailbox', async (request, reply) => {
    if (!fromThisMachine(request)) return reply.callNotFound();
    return sendPage(request, reply, { title: 'Dev mailbox', body: mailboxPage(await box.list()) });
  });
  app.get<{ Params: { id: string } }>('/dev/mailbox/:id', async (request, reply) => {
    if (!fromThisMachine(request)) return reply.callNotFound();
    const mail = await box.read(request.params.id);
    if (!mail) return reply.callNotFound();
    return sendPage(request, reply, { title: mail.subject, body: mailPage(mail) });
  });
}
