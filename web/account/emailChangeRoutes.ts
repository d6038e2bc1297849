import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Email, LinkToken, LoginPassword } from '../../events/index.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import type { WebDeps } from '../deps.ts';
import type { FieldErrors } from '../shared/forms.ts';
import { messagePage, notice } from '../shared/layout.ts';
import {
  emailLinksPerClient,
  emailsPerAddress,
  limiter,
  rateLimitsOf,
  tokenLinksPerClient,
} from '../shared/limiter.ts';
import { sendRefusal, tooManyAttempts } from '../shared/refusals.ts';
import { parseForm, sendPage, typed } from '../shared/respond.ts';
import { requireAccount } from '../shared/session.ts';
import { currentAddressOf } from './emailChangeQueries.ts';
import * as views from './emailChangeViews.ts';

const EmailChangeForm = z.object({ email: Email, password: LoginPassword });
const TITLE = 'Email address';

/**
 * Changing the account's address: the signed-in form (GET/POST /account/email), which checks the password and emails
 * a link to the new address, and that link (GET /account/email/confirm), which makes the change. Until it is followed
 * every email keeps going to the current address. The form's answer is the same whether or not another account uses
 * the new address: nothing it does depends on that.
 */
export async function emailChangeRoutes(app: FastifyInstance, deps: WebDeps) {
  // Each try checks the password: limited per account (a stolen session guesses no faster), per client (one budget
  // with the other forms that email a link) and per address named (no address is flooded with links).
  const perAccount = limiter(app, 'email-change-account', rateLimitsOf(deps).emailChangesPerAccount, (r) =>
    r.account ? r.account.userId : undefined,
  );
  const perClient = emailLinksPerClient(app, deps);
  const perAddress = emailsPerAddress(app, deps);
  const tokenLinks = tokenLinksPerClient(app, deps);

  const currentAddress = (request: FastifyRequest) => currentAddressOf(deps, request.account!.userId);

  app.get(views.EMAIL_CHANGE_PATH, { preHandler: requireAccount }, async (request, reply) =>
    sendPage(request, reply, {
      title: TITLE,
      body: views.emailChangePage(reply.csrfToken(), await currentAddress(request)),
    }),
  );

  app.post(views.EMAIL_CHANGE_PATH, { preHandler: requireAccount }, async (request, reply) => {
    const csrf = reply.csrfToken();
    const current = await currentAddress(request);
    const values = { email: typed(request.body, 'email') };
    // The whole page, or the form alone when htmx asked: what was typed, the errors beside their fields.
    const again = (errors: FieldErrors, status: number) =>
      sendPage(request, reply, {
        status,
        title: TITLE,
        body: views.emailChangePage(csrf, current, values, errors),
        fragment: views.emailChangeForm(csrf, values, errors),
      });
    const form = parseForm(EmailChangeForm, request.body);
    if (!form.ok) return again(form.errors, 422);
    const limited =
      (await perAccount(request, reply)) ?? (await perClient(request, reply)) ?? (await perAddress(request, reply));
    if (limited) return again({ form: limited }, 429);
    const result = await request.sendCommand('RequestEmailChange', {
      userId: request.account!.userId,
      email: form.data.email,
      password: form.data.password,
    });
    if (!result.ok) return sendRefusal(request, reply, result, 'emailChangeForm', again);
    await waitForProjection(deps.pool, deps.schema, result.seq, deps.projectionWaitMs);
    return sendPage(request, reply, {
      title: 'Check your new inbox',
      body: views.linkSentPage(form.data.email, current.email),
      fragment: notice('good', views.linkSentText(form.data.email, current.email)),
    });
  });

  // The link in the email to the new address: like /verify, following it makes the change (no session needed: the
  // link proves the new inbox, the request proved the password).
  app.get(`${views.EMAIL_CHANGE_PATH}/confirm`, async (request: FastifyRequest, reply: FastifyReply) => {
    const token = LinkToken.safeParse((request.query as Record<string, unknown>).token).data;
    if (token === undefined)
      return sendPage(request, reply, {
        status: 400,
        title: 'Link not valid',
        body: messagePage(
          'Link not valid',
          'This link to change your email address is not valid. Copy the whole link from the email.',
        ),
      });
    const limited = await tokenLinks(request, reply);
    if (limited) return tooManyAttempts(request, reply, limited);
    const result = await request.sendCommand('ConfirmEmailChange', { token });
    if (!result.ok) return sendRefusal(request, reply, result, 'emailChangeLink');
    await waitForProjection(deps.pool, deps.schema, result.seq, deps.projectionWaitMs);
    return sendPage(request, reply, {
      title: 'Email address changed',
      body: views.changedPage(request.account !== null),
    });
  });
}
