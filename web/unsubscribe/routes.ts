import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LinkToken } from '../../events/index.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import { linkSecret, unsubscribeUserId } from '../../platform/tokens.ts';
import type { WebDeps } from '../deps.ts';
import { tokenLinksPerClient } from '../shared/limiter.ts';
import { sendRefusal, tooManyAttempts } from '../shared/refusals.ts';
import { sendPage } from '../shared/respond.ts';
import * as views from './views.ts';

/**
 * The unsubscribe link of alert emails (RFC 8058). GET only shows a button (mail scanners follow links); the
 * POST, from that button or from the mail client's one-click, pauses the user's alert emails. The token is an
 * HMAC of the user id, so it is the whole authorisation: no session and no CSRF token.
 */
export async function unsubscribeRoutes(app: FastifyInstance, deps: WebDeps) {
  const secret = linkSecret(deps.secret);
  const tokenLinks = tokenLinksPerClient(app, deps);

  // Mail clients post `List-Unsubscribe=One-Click` as a form or as multipart; the body says nothing we need.
  app.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: 4096 }, (_request, _body, done) =>
    done(null, {}),
  );

  const userOf = (request: FastifyRequest) => {
    const token = LinkToken.safeParse((request.query as Record<string, unknown>).token).data;
    if (token === undefined) return undefined;
    const userId = unsubscribeUserId(secret, token);
    return userId ? { token, userId } : undefined;
  };
  const invalid = (request: FastifyRequest, reply: FastifyReply) =>
    sendPage(request, reply, { status: 400, title: 'Link not valid', body: views.unsubscribeInvalidPage() });

  app.get('/unsubscribe', async (request, reply) => {
    const limited = await tokenLinks(request, reply);
    if (limited) return tooManyAttempts(request, reply, limited);
    const link = userOf(request);
    if (!link) return invalid(request, reply);
    return sendPage(request, reply, { title: 'Stop alert emails', body: views.unsubscribeConfirmPage(link.token) });
  });

  app.post('/unsubscribe', { config: { csrf: false } }, async (request, reply) => {
    const limited = await tokenLinks(request, reply);
    if (limited) return tooManyAttempts(request, reply, limited);
    const link = userOf(request);
    if (!link) return invalid(request, reply);
    const result = await request.sendCommand('PauseAlertEmails', { userId: link.userId });
    if (!result.ok) return sendRefusal(request, reply, result);
    await waitForProjection(deps.pool, deps.schema, result.seq, deps.projectionWaitMs);
    return sendPage(request, reply, { title: 'Alert emails stopped', body: views.unsubscribedPage() });
  });
}
