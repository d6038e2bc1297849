import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AggregateId, CommandId, TypedCurrencyCode, TypedThreshold, type CommandReply } from '../../events/index.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import { alertEmailsPaused, alertOf, alertsOf, CHART_RUNS, latestRun, waitForAlert, type LatestRun } from '../alertsReadModel.ts';
import { RecentRuns } from '../recentRuns.ts';
import type { WebDeps } from '../deps.ts';
import { html } from '../html.ts';
import { isHtmx, parseForm, redirectAfterPost, sendPage, typed } from '../respond.ts';
import { requireAccount, type Account } from '../plugins/session.ts';
import type { FieldErrors } from '../views/accounts.ts';
import * as views from '../views/alerts.ts';
import { notice } from '../views/layout.ts';
import { keptAlertsMarkup } from './alertsMarkup.ts';
import { commandFailed } from './guards.ts';

const AlertForm = z.object({ base: TypedCurrencyCode, quote: TypedCurrencyCode, threshold: TypedThreshold });

const newCommandId = () => randomUUID().replaceAll('-', '');

/**
 * The form's idempotency key, scoped to the user: the SetAlert command id and the alert id both derive from it,
 * so a double submit stores one alert and no key chosen by one user can touch another user's alerts.
 */
function alertKeys(userId: string, formKey: string) {
  const digest = createHash('sha256').update(`set-alert|${userId}|${formKey}`).digest('hex').slice(0, 32);
  return { commandId: `set${digest}`, alertId: `a${digest}` };
}

const accountOf = (request: FastifyRequest): Account => request.account!;

/** The alerts page, its self-refreshing section, creating and deleting alerts, pausing alert emails. */
export async function alertRoutes(app: FastifyInstance, deps: WebDeps) {
  const { pool, schema } = deps;
  // Runs never change once projected: the page keeps the recent ones in memory (see RecentRuns).
  const runs = new RecentRuns(CHART_RUNS);
  const waitFor = (seq: number) => waitForProjection(pool, schema, seq, deps.projectionWaitMs);
  const kept = keptAlertsMarkup(deps, runs);
  const sendMarkup = (reply: FastifyReply, markup: Buffer) => reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(markup);

  /** A failed command as a whole page; htmx swaps it in as a page rather than into the section. */
  const failed = (request: FastifyRequest, reply: FastifyReply, result: Extract<CommandReply, { ok: false }>) => {
    if (isHtmx(request)) reply.header('HX-Retarget', 'body').header('HX-Reswap', 'innerHTML');
    return commandFailed(request, reply, result);
  };
  const notFound = (request: FastifyRequest, reply: FastifyReply) => failed(request, reply, { ok: false, error: 'NOT_FOUND', message: 'No such alert' });

  const section = async (userId: string, csrf: string, options: Parameters<typeof views.alertsSection>[3] = {}) => {
    const alerts = await alertsOf(pool, schema, userId, runs);
    return views.alertsSection(csrf, alerts, await latestRun(pool, schema), options);
  };

  const sendAlertsPage = async (request: FastifyRequest, reply: FastifyReply, form: views.AlertFormState, status = 200, latestKnown?: LatestRun) => {
    const { userId } = accountOf(request);
    const csrf = reply.csrfToken();
    // Queries one after another (embedded Postgres serves a single session); a fixed number whatever the number of alerts.
    const alerts = await alertsOf(pool, schema, userId, runs);
    const latest = latestKnown ?? (await latestRun(pool, schema));
    const paused = await alertEmailsPaused(pool, schema, userId);
    return sendPage(request, reply, {
      status,
      title: 'Your alerts',
      body: views.alertsPage(csrf, { alerts, latest, paused, form }),
      fragment: views.alertForm(csrf, latest, form),
    });
  };

  /** Pages send a guest to log in; htmx (the minute refresh after the session ended) is told to go there. */
  const guard = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.account && isHtmx(request)) {
      await reply.code(401).header('HX-Redirect', '/login?next=%2Falerts').type('text/plain; charset=utf-8').send('Log in first.');
      return;
    }
    return requireAccount(request, reply);
  };

  app.get('/alerts', { onRequest: guard }, async (request, reply) => {
    // htmx asks for the form alone (sendPage's fragment): rare, rendered as it is asked.
    if (isHtmx(request)) return sendAlertsPage(request, reply, { commandId: newCommandId(), values: {}, errors: {} });
    return sendMarkup(reply, await kept.page(accountOf(request), { csrf: reply.csrfToken(), commandId: newCommandId() }));
  });

  app.get('/alerts/section', { onRequest: guard }, async (request, reply) => {
    return sendMarkup(reply, await kept.section(accountOf(request), { csrf: reply.csrfToken() }));
  });

  app.post('/alerts', { onRequest: guard }, async (request, reply) => {
    const { userId } = accountOf(request);
    const typedKey = typed(request.body, 'commandId');
    const formKey = CommandId.safeParse(typedKey).success ? typedKey : newCommandId();
    const values = { base: typed(request.body, 'base'), quote: typed(request.body, 'quote'), threshold: typed(request.body, 'threshold') };
    const refuse = (errors: FieldErrors, latest: LatestRun | undefined) => sendAlertsPage(request, reply, { commandId: formKey, values, errors }, 422, latest);

    const latest = await latestRun(pool, schema);
    const form = parseForm(AlertForm, request.body);
    if (!form.ok) return refuse(form.errors, latest);
    const { commandId, alertId } = alertKeys(userId, formKey);

    // The alert rules (currencies of the latest run, the cap) are the decider's: its refusal says beside which fields.
    const result = await request.sendCommand('SetAlert', { userId, alertId, ...form.data }, { commandId });
    if (result.ok) await waitFor(result.seq);
    // The same form submitted again: its alert is already set (or being projected), which is what the user asked for.
    else if (result.error === 'ALREADY_EXISTS') await waitForAlert(pool, schema, userId, alertId, deps.projectionWaitMs);
    else if (result.fields || result.error === 'TOO_MANY_ALERTS') return refuse(Object.fromEntries((result.fields ?? ['form']).map((field) => [field, result.message])), latest);
    else if (result.error === 'INVALID_COMMAND') return refuse({ form: 'That alert could not be set. Check the currencies and the threshold.' }, latest);
    else return failed(request, reply, result);

    if (!isHtmx(request)) return reply.redirect('/alerts', 303);
    const csrf = reply.csrfToken();
    const fresh = views.alertForm(csrf, latest, { commandId: newCommandId(), values: {}, errors: {} });
    const updated = await section(userId, csrf, { outOfBand: true });
    return reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(html`${fresh}${updated}`.value);
  });

  /** Delete, then the answer: the updated section for htmx, otherwise back to the alerts page. */
  const deleteAlert = async (request: FastifyRequest, reply: FastifyReply, alertId: string) => {
    const { userId } = accountOf(request);
    // An alert is deleted once: the same command id for every click, so a double-click is one stored command, and
    // a click on an alert deleted already is answered as done (with the deletion's position) by the command service.
    const commandId = `del${createHash('sha256').update(`delete-alert|${userId}|${alertId}`).digest('hex').slice(0, 32)}`;
    const result = await request.sendCommand('DeleteAlert', { userId, alertId }, { commandId });
    if (!result.ok) return failed(request, reply, result);
    await waitFor(result.seq);
    if (!isHtmx(request)) return reply.redirect('/alerts', 303);
    const fragment = await section(userId, reply.csrfToken(), { notice: notice('good', 'Alert deleted.') });
    return reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(fragment.value);
  };

  const alertIdParam = (request: FastifyRequest) => {
    const parsed = AggregateId.safeParse((request.params as Record<string, unknown>).id);
    return parsed.success ? parsed.data : undefined;
  };

  app.post('/alerts/:id/delete', { onRequest: guard }, async (request, reply) => {
    const alertId = alertIdParam(request);
    if (!alertId) return notFound(request, reply);
    if (typed(request.body, 'confirm') === 'yes') return deleteAlert(request, reply, alertId);
    const alert = await alertOf(pool, schema, accountOf(request).userId, alertId);
    if (!alert || alert.deleted) return notFound(request, reply);
    return sendPage(request, reply, { title: 'Delete alert', body: views.deleteConfirmPage(reply.csrfToken(), alertId, alert) });
  });

  app.delete('/alerts/:id', { onRequest: guard }, async (request, reply) => {
    const alertId = alertIdParam(request);
    if (!alertId) return notFound(request, reply);
    return deleteAlert(request, reply, alertId);
  });

  app.post('/alerts/emails', { onRequest: guard }, async (request, reply) => {
    const { userId } = accountOf(request);
    const paused = typed(request.body, 'paused');
    if (paused !== 'yes' && paused !== 'no') {
      const current = await alertEmailsPaused(pool, schema, userId);
      const form = views.emailsForm(reply.csrfToken(), current, 'Choose whether to pause alert emails.');
      return sendPage(request, reply, { status: 422, title: 'Alert emails', body: html`<h1>Alert emails</h1>${form}`, fragment: form });
    }
    const result = await request.sendCommand(paused === 'yes' ? 'PauseAlertEmails' : 'ResumeAlertEmails', { userId });
    if (!result.ok) return failed(request, reply, result);
    await waitFor(result.seq);
    if (!isHtmx(request)) return redirectAfterPost(request, reply, '/alerts');
    const form = views.emailsForm(reply.csrfToken(), await alertEmailsPaused(pool, schema, userId));
    return reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(form.value);
  });
}
