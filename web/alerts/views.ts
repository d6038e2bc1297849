import { ruleSummary, type AlertRule } from '../../events/index.ts';
import { formatRatio } from '../../events/ratio.ts';
import { html, type Html } from '../../platform/html.ts';
import { csrfField, fieldError, formError, invalidAttributes, type FieldErrors } from '../shared/forms.ts';
import { ratioChart } from './chart.ts';
import type { AlertEmailsState, AlertSummary, AlertTrigger, LatestRun } from './queries.ts';
import type { RuleFormValues } from './ruleForm.ts';

export type AlertFormValues = { base?: string; quote?: string } & RuleFormValues;
export type AlertFormState = { commandId: string; values: AlertFormValues; errors: FieldErrors };

const currencyNames = new Intl.DisplayNames(['en'], { type: 'currency' });

/** "EUR — Euro"; just the code where the name is not known (BTC). */
export function currencyLabel(code: string): string {
  let name: string | undefined;
  try {
    name = currencyNames.of(code);
  } catch {
    name = undefined;
  }
  return name && name !== code ? `${code} — ${name}` : code;
}

const pairOf = (a: { base: string; quote: string }) => `${a.base}/${a.quote}`;
/** "EUR/USD at 1.0825", "EUR/USD on a 1.5 % change over 3 runs, once": how an alert is named in a button or question. */
export const alertName = (a: { base: string; quote: string; rule: AlertRule }) => `${pairOf(a)} ${ruleSummary(a.rule)}`;
export const deleteQuestion = (a: { base: string; quote: string; rule: AlertRule }) => `Delete alert ${alertName(a)}?`;

export const when = (at: Date) =>
  html`<time datetime="${at.toISOString()}">${at.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>`;

export function sideOf(current: NonNullable<AlertSummary['current']>): Html | '' {
  if (current.side === undefined) return '';
  if (current.side === 'at') return html`<span class="at">at</span> the threshold`;
  return html`<span class="${current.side}">${current.side}</span> the threshold`;
}

/** The alert's rule and state in its row: "1.0825", "1.08 · upward only · once · until 2026-12-31", "1.5 % over 3 runs". */
function ruleCell(alert: AlertSummary): Html {
  const { rule } = alert;
  const what =
    rule.kind === 'threshold'
      ? rule.threshold
      : `change of ${rule.percent} % over ${rule.runs} ${rule.runs === 1 ? 'run' : 'runs'}`;
  const notes = [
    ...(rule.direction === 'either' ? [] : [rule.direction === 'up' ? 'upward only ↑' : 'downward only ↓']),
    ...(rule.repeat === 'once' ? ['once'] : []),
    ...(rule.expires ? [`until ${rule.expires}`] : []),
  ];
  const state = alert.paused
    ? html` <strong class="status paused">Paused</strong>`
    : alert.expired
      ? html` <strong class="status">Expired</strong>`
      : alert.done
        ? html` <strong class="status">Done</strong>`
        : '';
  return html`${what}${notes.length > 0 ? html`<br><span class="muted">${notes.join(' · ')}</span>` : ''}${state}`;
}

/** A one-button form on an alert: posts without JavaScript, swaps the section in with htmx. */
function alertAction(csrf: string, alert: AlertSummary, action: string, label: string): Html {
  return html`<form method="post" action="/alerts/${alert.alertId}/${action}" hx-post="/alerts/${alert.alertId}/${action}" hx-target="#alerts" hx-swap="outerHTML">${csrfField(csrf)}
    <button class="link" type="submit" aria-label="${label} alert ${alertName(alert)}">${label}</button>
  </form>`;
}

function triggerLine(trigger: AlertTrigger, threshold: string | undefined): Html {
  const direction = trigger.direction === 'up' ? 'crossed upward ↑' : 'crossed downward ↓';
  return html`<li>${when(trigger.triggeredAt)}${trigger.asOf ? html` <span class="muted">(rates of ${trigger.asOf})</span>` : ''}:
  <span class="num">${formatRatio(trigger.previousRatio, 6, threshold)}</span> → <span class="num">${formatRatio(trigger.currentRatio, 6, threshold)}</span>, ${direction}</li>`;
}

function history(alert: AlertSummary): Html {
  const last = alert.triggers[0];
  if (!last) return html`<span class="muted">Never triggered</span>`;
  const more =
    alert.triggerCount > alert.triggers.length
      ? html`<p class="muted">The ${alert.triggers.length} most recent of ${alert.triggerCount}.</p>`
      : '';
  return html`Last ${when(last.triggeredAt)}
  <details><summary>History (${alert.triggerCount})</summary><ol class="triggers">${alert.triggers.map((t) => triggerLine(t, alert.threshold))}</ol>${more}</details>`;
}

function alertRow(csrf: string, alert: AlertSummary): Html {
  const pair = pairOf(alert);
  return html`<tr id="alert-${alert.alertId}">
  <td class="pair-cell"><a class="pair-link" href="/alerts/${alert.alertId}"><strong class="pair">${pair}</strong></a></td>
  <td class="num threshold">${ruleCell(alert)}</td>
  <td class="num current">${
    alert.current
      ? html`<span class="ratio">${alert.current.shown}</span> ${sideOf(alert.current)}<br><span class="muted">as of ${alert.current.asOf}</span>`
      : html`<span class="muted">No rates for this pair yet</span>`
  }</td>
  <td class="chart-cell">${ratioChart({ pair, points: alert.series, threshold: alert.threshold })}</td>
  <td class="history">${history(alert)}</td>
  <td class="actions"><a href="/alerts/${alert.alertId}/edit" aria-label="Edit alert ${alertName(alert)}">Edit</a>
  ${alert.paused ? alertAction(csrf, alert, 'resume', 'Resume') : alertAction(csrf, alert, 'pause', 'Pause')}
  ${alert.done ? alertAction(csrf, alert, 'rearm', 'Re-arm') : ''}
  <form method="post" action="/alerts/${alert.alertId}/delete">${csrfField(csrf)}
    <button class="danger" type="submit" aria-label="Delete alert ${alertName(alert)}" hx-delete="/alerts/${alert.alertId}" hx-confirm="${deleteQuestion(alert)}" hx-target="#alerts" hx-swap="outerHTML">Delete</button>
  </form></td>
</tr>`;
}

/** The list of alerts; it refreshes itself every minute (htmx), so new runs show without a reload; a failed refresh keeps what is shown. */
export function alertsSection(
  csrf: string,
  alerts: AlertSummary[],
  latest: LatestRun | undefined,
  options: { outOfBand?: boolean; notice?: Html } = {},
): Html {
  // A fetch of a rates date the log has already is no run (docs/design.md §4b): the latest run says when rates were last new.
  const runLine = latest
    ? html`<p class="muted">Latest rates: ${latest.asOf} (${latest.provider}); the rates were last new ${when(latest.fetchedAt)}. Ratios are QUOTE per 1 BASE.</p>`
    : html`<p class="muted">No rates have been fetched yet; ratios appear after the first fetch.</p>`;
  const list =
    alerts.length === 0
      ? html`<p>You have no alerts yet. Set one below.</p>`
      : html`<table class="alerts">
<thead><tr><th scope="col">Pair</th><th scope="col">Alert</th><th scope="col">Now</th><th scope="col">Recent runs</th><th scope="col">Triggered</th><th scope="col"><span class="visually-hidden">Change or delete</span></th></tr></thead>
<tbody>
${alerts.map((a) => alertRow(csrf, a))}
</tbody>
</table>`;
  return html`<section id="alerts" hx-get="/alerts/section" hx-trigger="every 60s" hx-swap="outerHTML" hx-status:5xx="swap:none"${options.outOfBand ? html` hx-swap-oob="true"` : ''}>
${options.notice ?? ''}${runLine}
${list}
</section>`;
}

function currencySelect(
  name: 'base' | 'quote',
  label: string,
  latest: LatestRun | undefined,
  value: string | undefined,
  error: string | undefined,
): Html {
  const id = `f-${name}`;
  const currencies = latest?.currencies ?? [];
  return html`<label for="${id}">${label}
  <select id="${id}" name="${name}"${invalidAttributes(id, error)}>
    <option value="">Choose…</option>
    ${currencies.map((c) => html`<option value="${c}"${c === value ? html` selected` : ''}>${currencyLabel(c)}</option>`)}
  </select>
  ${fieldError(id, error)}
</label>`;
}

/** The create form; `commandId` makes a double submit store one alert. Posts normally, htmx swaps it in place. */
export function alertForm(csrf: string, latest: LatestRun | undefined, state: AlertFormState): Html {
  const { values, errors } = state;
  return html`<form id="new-alert" class="stack" method="post" action="/alerts" hx-post="/alerts" hx-swap="outerHTML" novalidate>
  <h2>New alert</h2>
  ${csrfField(csrf)}<input type="hidden" name="commandId" value="${state.commandId}">
  ${formError(errors.form)}
  ${currencySelect('base', 'Base currency', latest, values.base, errors.base)}
  ${currencySelect('quote', 'Quote currency', latest, values.quote, errors.quote)}
  ${ruleFields(values, errors)}
  <button type="submit">Set alert</button>
</form>`;
}

function choiceSelect(
  name: string,
  label: string,
  options: readonly (readonly [string, string])[],
  value: string | undefined,
  error: string | undefined,
): Html {
  const id = `f-${name}`;
  const chosen = value || options[0]![0];
  return html`<label for="${id}">${label}
  <select id="${id}" name="${name}"${invalidAttributes(id, error)}>
    ${options.map(([v, text]) => html`<option value="${v}"${v === chosen ? html` selected` : ''}>${text}</option>`)}
  </select>
  ${fieldError(id, error)}
</label>`;
}

function textField(name: string, label: string, value: string | undefined, error: string | undefined, type = 'text') {
  const id = `f-${name}`;
  const mode = type === 'text' ? html` inputmode="decimal"` : '';
  return html`<label for="${id}">${label}
  <input id="${id}" name="${name}" type="${type}"${mode} autocomplete="off" value="${value ?? ''}"${invalidAttributes(id, error)}>
  ${fieldError(id, error)}
  </label>`;
}

/**
 * An alert's rule, as creating and editing ask for it (docs/design.md §4b). Both kinds' fields show (no script needed
 * to switch): the ones of the kind not chosen are ignored.
 */
export function ruleFields(values: RuleFormValues, errors: FieldErrors): Html {
  return html`${choiceSelect(
    'kind',
    'Kind',
    [
      ['threshold', 'Threshold: crossing a value'],
      ['change', 'Change: moving by a percent'],
    ],
    values.kind,
    errors.kind,
  )}
  ${textField('threshold', 'Threshold (for a threshold alert; QUOTE per 1 BASE, e.g. 1.0825)', values.threshold, errors.threshold)}
  <fieldset class="stack"><legend>For a change alert</legend>
  ${textField('percent', 'Percent (e.g. 1.5)', values.percent, errors.percent)}
  ${textField('runs', 'Over how many runs (1 to 30; runs that lack one of the currencies are not counted)', values.runs ?? '1', errors.runs, 'number')}
  </fieldset>
  ${choiceSelect(
    'direction',
    'Direction',
    [
      ['either', 'Either way'],
      ['up', 'Upward only'],
      ['down', 'Downward only'],
    ],
    values.direction,
    errors.direction,
  )}
  ${choiceSelect(
    'repeat',
    'Repeat',
    [
      ['every', 'Every time'],
      ['once', 'Once, until I re-arm it'],
    ],
    values.repeat,
    errors.repeat,
  )}
  ${textField('expires', 'Until (optional, YYYY-MM-DD: runs with a later rates date do not trigger it)', values.expires, errors.expires, 'date')}`;
}

/** The edit form of one alert, on a page of its own; the pair stays. Posts to /alerts/<id>, works without JavaScript. */
export function editAlertPage(
  csrf: string,
  alertId: string,
  alert: { base: string; quote: string; paused: boolean },
  values: RuleFormValues,
  errors: FieldErrors,
): Html {
  return html`<h1>Edit alert ${pairOf(alert)}</h1>
<form id="edit-alert" class="stack" method="post" action="/alerts/${alertId}" novalidate>
  ${csrfField(csrf)}
  ${formError(errors.form)}
  ${alert.paused ? html`<p class="muted">This alert is paused; saving keeps it paused.</p>` : ''}
  ${ruleFields(values, errors)}
  <div class="row"><button type="submit">Save</button><a href="/alerts">Cancel</a></div>
</form>`;
}

/** A rule as its form shows it, for editing. */
export function ruleFormValues(rule: AlertRule): RuleFormValues {
  return {
    kind: rule.kind,
    ...(rule.kind === 'threshold' ? { threshold: rule.threshold } : { percent: rule.percent, runs: String(rule.runs) }),
    direction: rule.direction,
    repeat: rule.repeat,
    expires: rule.expires ?? '',
  };
}

/**
 * Pause or resume the alert digest emails; or, when the mail server refused the account's address for good, say so and
 * offer to change the address or have it tried again (which also resumes emails the user had paused).
 */
export function emailsForm(csrf: string, state: AlertEmailsState, error?: string): Html {
  const { paused, refused } = state;
  if (refused) {
    const when = refused.at.toISOString();
    return html`<form id="alert-emails" class="panel" method="post" action="/alerts/emails" hx-post="/alerts/emails" hx-swap="outerHTML">
  ${csrfField(csrf)}<input type="hidden" name="paused" value="no"><input type="hidden" name="retry" value="yes">
  ${formError(error)}
  <p><span id="alert-emails-state">Alert emails are <strong class="paused">paused</strong>: the mail server refused your address for good (${refused.detail}) on <time datetime="${when}">${when.slice(0, 10)}</time>. Your alerts still trigger, but you get no email.</span></p>
  <p><a href="/account/email">Change your email address</a>, or <button id="alert-emails-toggle" class="link" type="submit" aria-describedby="alert-emails-state">Try this address again</button></p>
</form>`;
  }
  return html`<form id="alert-emails" class="panel" method="post" action="/alerts/emails" hx-post="/alerts/emails" hx-swap="outerHTML">
  ${csrfField(csrf)}<input type="hidden" name="paused" value="${paused ? 'no' : 'yes'}">
  ${formError(error)}
  <p>${
    // The button keeps its id across the swap, so htmx gives it the focus back; it is described by the new state.
    paused
      ? html`<span id="alert-emails-state">Alert emails are <strong class="paused">paused</strong>: your alerts still trigger, but you get no email.</span> <button id="alert-emails-toggle" type="submit" aria-describedby="alert-emails-state">Turn alert emails back on</button>`
      : html`<span id="alert-emails-state">Alert emails are <strong>on</strong>.</span> <button id="alert-emails-toggle" class="link" type="submit" aria-describedby="alert-emails-state">Pause alert emails</button>`
  }</p>
</form>`;
}

export function alertsPage(
  csrf: string,
  parts: {
    alerts: AlertSummary[];
    latest: LatestRun | undefined;
    emails: AlertEmailsState;
    form: AlertFormState;
    notice?: Html;
  },
): Html {
  return html`<h1>Your alerts</h1>
${emailsForm(csrf, parts.emails)}
${alertsSection(csrf, parts.alerts, parts.latest, parts.notice ? { notice: parts.notice } : {})}
${alertForm(csrf, parts.latest, parts.form)}`;
}

/** The no-JavaScript confirmation before a delete; its form posts again with confirm=yes. */
export function deleteConfirmPage(
  csrf: string,
  alertId: string,
  alert: { base: string; quote: string; rule: AlertRule },
): Html {
  return html`<h1>Delete alert</h1>
<form class="stack" method="post" action="/alerts/${alertId}/delete">
  ${csrfField(csrf)}<input type="hidden" name="confirm" value="yes">
  <p>${deleteQuestion(alert)}</p>
  <div class="row"><button class="danger" type="submit">Delete</button><a href="/alerts">Cancel</a></div>
</form>`;
}
