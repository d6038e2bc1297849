import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AggregateId, CommandId, TypedCurrencyCode } from '../../events/index.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import { html, type Html } from '../../platform/html.ts';
import type { WebDeps } from '../deps.ts';
import type { FieldErrors } from '../shared/forms.ts';
import { notice } from '../shared/layout.ts';
import { sendRefusal } from '../shared/refusals.ts';
import { isHtmx, parseForm, redirectAfterPost, sendMarkup, sendPage, typed } from '../shared/respond.ts';
import { requireAccount, type Account } from '../shared/session.ts';
import { farSideNotice } from './farSide.ts';
import { keptAlertsMarkup } from './keptMarkup/keptAlertsMarkup.ts';
import {
  alertEmailsState,
  alertOf,
  alertsPageOf,
  alertsSectionOf,
  CHART_RUNS,
  latestRun,
  pairNow,
  waitForAlert,
  type LatestRun,
  type OneAlert,
} from './queries.ts';
import { RecentRuns } from './recentRuns.ts';
import { ruleFromForm, ruleValues, type RuleFormValues } from './ruleForm.ts';
import * as views from './views.ts';

const PairForm = z.object({ base: TypedCurrencyCode, quote: TypedCurrencyCode });

/** The create form's pair and rule, or every message beside its field. */
function alertFromForm(body: unknown) {
  const pair = parseForm(PairForm, body);
  const rule = ruleFromForm(body);
  if (pair.ok && rule.ok) return { ok: true as const, data: { ...pair.data, ...rule.rule } };
  return { ok: false as const, errors: { ...(pair.ok ? {} : pair.errors), ...(rule.ok ? {} : rule.errors) } };
}

const newCommandId = () => randomUUID().replaceAll('-', '');

/** 128 bits of SHA-256 over what an id is for, the user and the key chosen for it: no user can name another's. */
const userScopedDigest = (purpose: string, userId: string, key: string) =>
  createHash('sha256').update(`${purpose}|${userId}|${key}`).digest('hex').slice(0, 32);

/**
 * The form's idempotency key, scoped to the user: the SetAlert command id and the alert id both derive from it,
 * so a double submit stores one alert and no key chosen by one user can touch another user's alerts.
 */
function alertKeys(userId: string, formKey: string) {
  const digest = userScopedDigest('set-alert', userId, formKey);
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

  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    sendRefusal(request, reply, { ok: false, error: 'NOT_FOUND', message: 'No such alert' });

  const section = async (userId: string, csrf: string, options: Parameters<typeof views.alertsSection>[3] = {}) => {
    const { alerts, latest } = await alertsSectionOf(pool, schema, userId, runs);
    return views.alertsSection(csrf, alerts, latest, options);
  };

  const sendAlertsPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    form: views.AlertFormState,
    status = 200,
    latestKnown?: LatestRun,
    sectionNotice?: Html,
  ) => {
    const { userId } = accountOf(request);
    const csrf = reply.csrfToken();
    // A fixed number of queries whatever the number of alerts.
    const shown = await alertsPageOf(pool, schema, userId, runs, latestKnown);
    return sendPage(request, reply, {
      status,
      title: 'Your alerts',
      body: views.alertsPage(csrf, { ...shown, form, ...(sectionNotice ? { notice: sectionNotice } : {}) }),
      fragment: views.alertForm(csrf, shown.latest, form),
    });
  };

  /** What to say once an alert is set: that it is set, and where the ratio is already past it, that too (farSide.ts). */
  const setNotice = async (userId: string, alertId: string): Promise<Html> => {
    const alert = await alertOf(pool, schema, userId, alertId);
    const threshold = alert?.rule.kind === 'threshold' ? alert.rule.threshold : undefined;
    const now = alert && threshold ? await pairNow(pool, schema, runs, alert, threshold) : undefined;
    const far = alert && farSideNotice(`${alert.base}/${alert.quote}`, alert.rule, now?.side);
    return far ? notice('info', `Alert set. ${far}`) : notice('good', 'Alert set.');
  };

  /** Pages send a guest to log in; htmx (the minute refresh after the session ended) is told to go there. */
  const guard = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.account && isHtmx(request)) {
      await reply
        .code(401)
        .header('HX-Redirect', '/login?next=%2Falerts')
        .type('text/plain; charset=utf-8')
        .send('Log in first.');
      return;
    }
    return requireAccount(request, reply);
  };

  app.get('/alerts', { onRequest: guard }, async (request, reply) => {
    // htmx asks for the form alone (sendPage's fragment): rare, rendered as it is asked.
    if (isHtmx(request)) return sendAlertsPage(request, reply, { commandId: newCommandId(), values: {}, errors: {} });
    // Just after a plain form set an alert: the page says so (and where it is already past), rendered for this once.
    const set = AggregateId.safeParse((request.query as Record<string, unknown>).set);
    if (set.success) {
      const said = await setNotice(accountOf(request).userId, set.data);
      return sendAlertsPage(
        request,
        reply,
        { commandId: newCommandId(), values: {}, errors: {} },
        200,
        undefined,
        said,
      );
    }
    return sendMarkup(
      reply,
      await kept.page(accountOf(request), { csrf: reply.csrfToken(), commandId: newCommandId() }),
    );
  });

  app.get('/alerts/section', { onRequest: guard }, async (request, reply) => {
    return sendMarkup(reply, await kept.section(accountOf(request), { csrf: reply.csrfToken() }));
  });

  app.post('/alerts', { onRequest: guard }, async (request, reply) => {
    const { userId } = accountOf(request);
    const typedKey = typed(request.body, 'commandId');
    const formKey = CommandId.safeParse(typedKey).success ? typedKey : newCommandId();
    const values = {
      base: typed(request.body, 'base'),
      quote: typed(request.body, 'quote'),
      ...ruleValues(request.body),
    };
    const refuse = (errors: FieldErrors, latest: LatestRun | undefined, status = 422) =>
      sendAlertsPage(request, reply, { commandId: formKey, values, errors }, status, latest);

    const latest = await latestRun(pool, schema);
    const form = alertFromForm(request.body);
    if (!form.ok) return refuse(form.errors, latest);
    const { commandId, alertId } = alertKeys(userId, formKey);

    // The alert rules (currencies of the latest run, the cap) are the decider's: its refusal says beside which fields.
    const result = await request.sendCommand('SetAlert', { userId, alertId, ...form.data }, { commandId });
    if (result.ok) await waitFor(result.seq);
    // The same form submitted again: its alert is already set (or being projected), which is what the user asked for.
    else if (result.error === 'ALREADY_EXISTS')
      await waitForAlert(pool, schema, userId, alertId, deps.projectionWaitMs);
    else return sendRefusal(request, reply, result, 'alertForm', (errors, status) => refuse(errors, latest, status));

    if (!isHtmx(request)) return reply.redirect(`/alerts?set=${alertId}`, 303);
    const csrf = reply.csrfToken();
    const fresh = views.alertForm(csrf, latest, { commandId: newCommandId(), values: {}, errors: {} });
    const updated = await section(userId, csrf, { outOfBand: true, notice: await setNotice(userId, alertId) });
    return sendMarkup(reply, html`${fresh}${updated}`);
  });

  /** The edit form again, with the values as typed and a message beside each field that is wrong. */
  const sendEditPage = (
    request: FastifyRequest,
    reply: FastifyReply,
    alertId: string,
    alert: OneAlert,
    values: RuleFormValues,
    errors: FieldErrors,
    status = 200,
  ) =>
    sendPage(request, reply, {
      status,
      title: 'Edit alert',
      body: views.editAlertPage(reply.csrfToken(), alertId, alert, values, errors),
    });

  /** The user's alert named in the path, not deleted; undefined (answered 404) otherwise. */
  const ownAlert = async (request: FastifyRequest) => {
    const alertId = alertIdParam(request);
    const alert = alertId && (await alertOf(pool, schema, accountOf(request).userId, alertId));
    return alertId && alert && !alert.deleted ? { alertId, alert } : undefined;
  };

  app.get('/alerts/:id/edit', { onRequest: guard }, async (request, reply) => {
    const found = await ownAlert(request);
    if (!found) return notFound(request, reply);
    return sendEditPage(request, reply, found.alertId, found.alert, views.ruleFormValues(found.alert.rule), {});
  });

  app.post('/alerts/:id', { onRequest: guard }, async (request, reply) => {
    const { userId } = accountOf(request);
    const found = await ownAlert(request);
    if (!found) return notFound(request, reply);
    const { alertId, alert } = found;
    const values = ruleValues(request.body);
    const showInForm = (errors: FieldErrors, status: number) =>
      sendEditPage(request, reply, alertId, alert, values, errors, status);
    const rule = ruleFromForm(request.body);
    if (!rule.ok) return showInForm(rule.errors, 422);
    // The same rule again is decided as nothing new: a resubmitted form stores nothing twice.
    const result = await request.sendCommand('EditAlert', { userId, alertId, ...rule.rule });
    if (!result.ok) return sendRefusal(request, reply, result, 'alertEditForm', showInForm);
    await waitFor(result.seq);
    return redirectAfterPost(request, reply, '/alerts');
  });

  /** Pause, resume or re-arm one alert: then the section again for htmx, the alerts page otherwise. */
  const alertSwitch = (command: 'PauseAlert' | 'ResumeAlert' | 'RearmAlert', done: string) =>
    app.post(
      `/alerts/:id/${{ PauseAlert: 'pause', ResumeAlert: 'resume', RearmAlert: 'rearm' }[command]}`,
      { onRequest: guard },
      async (request, reply) => {
        const { userId } = accountOf(request);
        const alertId = alertIdParam(request);
        if (!alertId) return notFound(request, reply);
        const result = await request.sendCommand(command, { userId, alertId });
        if (!result.ok) return sendRefusal(request, reply, result);
        await waitFor(result.seq);
        if (!isHtmx(request)) return reply.redirect('/alerts', 303);
        return sendMarkup(reply, await section(userId, reply.csrfToken(), { notice: notice('good', done) }));
      },
    );
  alertSwitch('PauseAlert', 'Alert paused: it triggers on no run until you resume it.');
  alertSwitch('ResumeAlert', 'Alert resumed.');
  alertSwitch('RearmAlert', 'Alert re-armed: it triggers once more.');

  /** Delete, then the answer: the updated section for htmx, otherwise back to the alerts page. */
  const deleteAlert = async (request: FastifyRequest, reply: FastifyReply, alertId: string) => {
    const { userId } = accountOf(request);
    // An alert is deleted once: the same command id for every click, so a double-click is one stored command, and
    // a click on an alert deleted already is answered as done (with the deletion's position) by the command service.
    const commandId = `del${userScopedDigest('delete-alert', userId, alertId)}`;
    const result = await request.sendCommand('DeleteAlert', { userId, alertId }, { commandId });
    if (!result.ok) return sendRefusal(request, reply, result);
    await waitFor(result.seq);
    if (!isHtmx(request)) return reply.redirect('/alerts', 303);
    const fragment = await section(userId, reply.csrfToken(), { notice: notice('good', 'Alert deleted.') });
    return sendMarkup(reply, fragment);
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
    return sendPage(request, reply, {
      title: 'Delete alert',
      body: views.deleteConfirmPage(reply.csrfToken(), alertId, alert),
    });
  });

  app.delete('/alerts/:id', { onRequest: guard }, async (request, reply) => {
    const alertId = alertIdParam(request);
    if (!alertId) return notFound(request, reply);
    return deleteAlert(request, reply, alertId);
  });

  app.post('/alerts/emails', { onRequest: guard }, async (request, reply) => {
    const { userId } = accountOf(request);
    const paused = typed(request.body, 'paused');
    const retry = typed(request.body, 'retry');
    if ((paused !== 'yes' && paused !== 'no') || (retry !== '' && retry !== 'yes')) {
      const current = await alertEmailsState(pool, schema, userId);
      const form = views.emailsForm(reply.csrfToken(), current, 'Choose whether to pause alert emails.');
      return sendPage(request, reply, {
        status: 422,
        title: 'Alert emails',
        body: html`<h1>Alert emails</h1>${form}`,
        fragment: form,
      });
    }
    const result =
      paused === 'yes'
        ? await request.sendCommand('PauseAlertEmails', { userId })
        : await request.sendCommand('ResumeAlertEmails', { userId, retryRefusedAddress: retry === 'yes' });
    if (!result.ok) return sendRefusal(request, reply, result);
    await waitFor(result.seq);
    if (!isHtmx(request)) return redirectAfterPost(request, reply, '/alerts');
    const form = views.emailsForm(reply.csrfToken(), await alertEmailsState(pool, schema, userId));
    return sendMarkup(reply, form);
  });
}
