import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { LoginPassword, Password } from '../../events/index.ts';
import { html } from '../../platform/html.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import type { WebDeps } from '../deps.ts';
import type { FieldErrors } from '../shared/forms.ts';
import { notice } from '../shared/layout.ts';
import { limiter, passwordGuesses, rateLimitsOf } from '../shared/limiter.ts';
import { sendRefusal, tooManyAttempts, type Refused } from '../shared/refusals.ts';
import { parseForm, sendPage } from '../shared/respond.ts';
import { requireAccount, type Account } from '../shared/session.ts';
import { channelsOf } from '../channels/queries.ts';
import { exportDocument, exportFileName } from './export.ts';
import { ownEvents } from './ownEvents.ts';
import { exportRecordsOf, openSessionsOf } from './queries.ts';
import * as views from './views.ts';
import { revealedData } from '../../platform/personalData/index.ts';
import type { DomainEvent } from '../../events/index.ts';
import { currentAddressOf } from './emailChangeQueries.ts';

const PasswordForm = z.object({ currentPassword: LoginPassword, newPassword: Password });

/** The log or the read models could not be read for an export: nothing was changed, try again. */
const unavailable: Refused = { ok: false, error: 'UNAVAILABLE', message: 'the export could not be read' };

const accountOf = (request: FastifyRequest): Account => request.account!;

/**
 * The signed-in person's account page, `/account`: a page of sections (views.ts), each with the routes of its own
 * forms here. Every route is behind login and acts on the session's own account: none takes a user id.
 */
export async function accountPageRoutes(app: FastifyInstance, deps: WebDeps) {
  const { pool, schema } = deps;
  const now = deps.now ?? (() => new Date());
  const guesses = passwordGuesses(app, deps);
  const guessesPerUsername = guesses.perUsername((r) => r.account?.username);
  const waitFor = (seq: number) => waitForProjection(pool, schema, seq, deps.projectionWaitMs);

  /** The whole page, or for htmx the one section its form replaces (and any other section it changed, out of band). */
  const sendAccountPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    shown: Omit<views.AccountView, 'csrf' | 'sessions' | 'address'>,
    answer: { status?: number; section: 'password' | 'sessions'; alsoSessions?: boolean },
  ) => {
    const { userId, sessionId } = accountOf(request);
    const view: views.AccountView = {
      ...shown,
      csrf: reply.csrfToken(),
      address: await currentAddressOf(deps, userId),
      sessions: await openSessionsOf(pool, schema, userId, sessionId),
    };
    const fragment =
      answer.section === 'password'
        ? html`${views.passwordSection(view)}${answer.alsoSessions ? views.sessionsSection(view, { outOfBand: true }) : ''}`
        : views.sessionsSection(view);
    return sendPage(request, reply, {
      ...(answer.status ? { status: answer.status } : {}),
      title: 'Your account',
      body: views.accountPage(view),
      fragment,
    });
  };

  app.get('/account', { preHandler: requireAccount }, async (request, reply) => {
    const { userId, sessionId } = accountOf(request);
    const view = {
      csrf: reply.csrfToken(),
      address: await currentAddressOf(deps, userId),
      sessions: await openSessionsOf(pool, schema, userId, sessionId),
    };
    return sendPage(request, reply, { title: 'Your account', body: views.accountPage(view) });
  });

  app.post('/account/password', { preHandler: requireAccount }, async (request, reply) => {
    const again = (errors: FieldErrors, status: number) =>
      sendAccountPage(request, reply, { password: { errors } }, { status, section: 'password' });
    const form = parseForm(PasswordForm, request.body);
    if (!form.ok) return again(form.errors, 422);
    const limited = (await guesses.perClient(request, reply)) ?? (await guessesPerUsername(request, reply));
    if (limited) return again({ form: limited }, 429);
    const { userId, sessionId } = accountOf(request);
    const result = await request.sendCommand('ChangePassword', {
      userId,
      sessionId,
      currentPassword: form.data.currentPassword,
      newPassword: form.data.newPassword,
    });
    if (!result.ok) return sendRefusal(request, reply, result, 'passwordChangeForm', again);
    // Once projected, the other sessions' cookies are refused everywhere (web/shared/session.ts asks the read model).
    await waitFor(result.seq);
    return sendAccountPage(
      request,
      reply,
      { password: { changed: true } },
      { section: 'password', alsoSessions: true },
    );
  });

  app.post('/account/sessions/end-others', { preHandler: requireAccount }, async (request, reply) => {
    const { userId, sessionId } = accountOf(request);
    const result = await request.sendCommand('EndOtherSessions', { userId, sessionId });
    if (!result.ok) return sendRefusal(request, reply, result);
    await waitFor(result.seq);
    return sendAccountPage(
      request,
      reply,
      { sessionsNotice: notice('good', 'Every other session was logged out; this one stays logged in.') },
      { section: 'sessions' },
    );
  });

  const exportsPerAccount = limiter(app, 'exports-account', rateLimitsOf(deps).exportsPerAccount, (r) =>
    r.account ? r.account.userId : undefined,
  );
  app.get('/account/export', { preHandler: requireAccount }, async (request, reply) => {
    const { userId } = accountOf(request);
    const limited = await exportsPerAccount(request, reply);
    if (limited) return tooManyAttempts(request, reply, limited);
    // One query after another, never in parallel: embedded Postgres (PGlite) serves a single session.
    const records = await exportRecordsOf(pool, schema, userId);
    const sealedChannels = await channelsOf(pool, schema, userId, { deleted: true });
    if (!records.account) return sendRefusal(request, reply, unavailable);
    let own;
    try {
      own = await ownEvents(deps.log, userId, {
        alertIds: records.alerts.map((a) => a.alertId),
        digestRunSeqs: [...new Set(records.triggers.map((t) => t.runSeq))],
        channelIds: sealedChannels.map((c) => c.channelId),
      });
    } catch (error) {
      request.log.error({ err: error }, 'the data export could not read the log');
      return sendRefusal(request, reply, unavailable);
    }
    // The person's own personal fields, opened with their key (docs/design.md §9).
    const account = {
      ...records.account,
      username: await deps.personal.reveal(userId, 'username', records.account.username),
      email: await deps.personal.reveal(userId, 'email', records.account.email),
    };
    const events = await Promise.all(
      own.events.map(async (e) => ({ ...e, data: await revealedData(deps.personal, e as unknown as DomainEvent) })),
    );
    const channels = await Promise.all(
      sealedChannels.map(async (c) => ({ ...c, url: await deps.personal.reveal(userId, 'webhook-url', c.url) })),
    );
    const at = now();
    const document = exportDocument({ userId, ...records, account, channels, ...own, events }, at);
    return reply
      .type('application/json; charset=utf-8')
      .header('Cache-Control', 'no-store')
      .header('Content-Disposition', `attachment; filename="${exportFileName(account.username, at)}"`)
      .send(JSON.stringify(document, null, 2));
  });
}
