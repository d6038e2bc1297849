import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { LoginPassword } from '../../events/index.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import type { WebDeps } from '../deps.ts';
import { limiter, rateLimitsOf } from '../shared/limiter.ts';
import { sendRefusal } from '../shared/refusals.ts';
import { parseForm, redirectAfterPost, sendPage } from '../shared/respond.ts';
import { requireAccount } from '../shared/session.ts';
import * as views from './deleteViews.ts';

// The password alone: the account is the session's, never a field or a path parameter, so nobody names another's.
const DeleteForm = z.object({ password: LoginPassword });

/**
 * Deleting one's own account: a confirmation step that says what is erased, then the password. The command service
 * checks the password (argon2id, as a login does) and records AccountErased; the session then ends here.
 */
export async function deleteAccountRoutes(app: FastifyInstance, deps: WebDeps) {
  // A password guessed here counts against the same budget as one guessed at the login form.
  const passwordsPerUsername = limiter(
    app,
    'login-user',
    rateLimitsOf(deps).loginPerUsername,
    (r) => r.account?.username,
  );

  app.get('/account/delete', { preHandler: requireAccount }, (request, reply) =>
    sendPage(request, reply, {
      title: 'Delete your account',
      body: views.deletePage(reply.csrfToken(), request.account!.username),
    }),
  );

  app.post('/account/delete', { preHandler: requireAccount }, async (request, reply) => {
    const account = request.account!;
    const csrf = reply.csrfToken();
    const again = (errors: Record<string, string | undefined>, status: number) =>
      sendPage(request, reply, {
        status,
        title: 'Delete your account',
        body: views.deletePage(csrf, account.username, errors),
        fragment: views.deleteForm(csrf, errors),
      });
    const form = parseForm(DeleteForm, request.body);
    if (!form.ok) return again(form.errors, 422);
    const limited = await passwordsPerUsername(request, reply);
    if (limited) return again({ form: limited }, 429);
    const result = await request.sendCommand('DeleteAccount', {
      userId: account.userId,
      password: form.data.password,
    });
    if (!result.ok) return sendRefusal(request, reply, result, 'deleteAccountForm', again);
    // The read models drop the session with the account: once they have, the cookie is refused everywhere.
    await waitForProjection(deps.pool, deps.schema, result.seq, deps.projectionWaitMs);
    reply.endSession();
    return redirectAfterPost(request, reply, '/account/deleted');
  });

  // Says only that an account was deleted: it shows nothing of anyone, so it needs no session (the one just ended).
  app.get('/account/deleted', (request, reply) =>
    sendPage(request, reply, { title: 'Account deleted', body: views.deletedPage() }),
  );
}
