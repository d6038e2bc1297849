import { formatRatio } from '../../events/ratio.ts';
import { html, type Html } from '../../platform/html.ts';
import { csrfField, fieldError, formError, invalidAttributes, type FieldErrors } from '../shared/forms.ts';
import { ratioChart } from './chart.ts';
import type { AlertSummary, AlertTrigger, LatestRun } from './queries.ts';

export type AlertFormValues = { base?: string; quote?: string; threshold?: string };
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
export const deleteQuestion = (a: { base: string; quote: string; threshold: string }) =>
  `Delete alert ${pairOf(a)} at ${a.threshold}?`;

export const when = (at: Date) =>
  html`<time datetime="${at.toISOString()}">${at.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>`;

export function sideOf(current: NonNullable<AlertSummary['current']>): Html {
  if (current.side === 'at') return html`<span class="at">at</span> the threshold`;
  return html`<span class="${current.side}">${current.side}</span> the threshold`;
}

function triggerLine(trigger: AlertTrigger, threshold: string): Html {
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
  <td class="num threshold">${alert.threshold}</td>
  <td class="num current">${
    alert.current
      ? html`<span class="ratio">${alert.current.shown}</span> ${sideOf(alert.current)}<br><span class="muted">as of ${alert.current.asOf}</span>`
      : html`<span class="muted">No rates for this pair yet</span>`
  }</td>
  <td class="chart-cell">${ratioChart({ pair, points: alert.series, threshold: alert.threshold })}</td>
  <td class="history">${history(alert)}</td>
  <td class="actions"><form method="post" action="/alerts/${alert.alertId}/delete">${csrfField(csrf)}
    <button class="danger" type="submit" aria-label="Delete alert ${pair} at ${alert.threshold}" hx-delete="/alerts/${alert.alertId}" hx-confirm="${deleteQuestion(alert)}" hx-target="#alerts" hx-swap="outerHTML">Delete</button>
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
  const runLine = latest
    ? html`<p class="muted">Latest rates: ${latest.asOf} (${latest.provider}). Ratios are QUOTE per 1 BASE.</p>`
    : html`<p class="muted">No rates have been fetched yet; ratios appear after the first fetch.</p>`;
  const list =
    alerts.length === 0
      ? html`<p>You have no alerts yet. Set one below.</p>`
      : html`<table class="alerts">
<thead><tr><th scope="col">Pair</th><th scope="col">Threshold</th><th scope="col">Now</th><th scope="col">Recent runs</th><th scope="col">Triggered</th><th scope="col"><span class="visually-hidden">Delete</span></th></tr></thead>
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
  <label for="f-threshold">Threshold (QUOTE per 1 BASE, e.g. 1.0825)
  <input id="f-threshold" name="threshold" type="text" inputmode="decimal" autocomplete="off" value="${values.threshold ?? ''}"${invalidAttributes('f-threshold', errors.threshold)}>
  ${fieldError('f-threshold', errors.threshold)}
  </label>
  <p class="muted">You get an email when the ratio crosses the threshold, either way.</p>
  <button type="submit">Set alert</button>
</form>`;
}

/** Pause or resume the alert digest emails. */
export function emailsForm(csrf: string, paused: boolean, error?: string): Html {
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
  parts: { alerts: AlertSummary[]; latest: LatestRun | undefined; paused: boolean; form: AlertFormState },
): Html {
  return html`<h1>Your alerts</h1>
${emailsForm(csrf, parts.paused)}
${alertsSection(csrf, parts.alerts, parts.latest)}
${alertForm(csrf, parts.latest, parts.form)}`;
}

/** The no-JavaScript confirmation before a delete; its form posts again with confirm=yes. */
export function deleteConfirmPage(
  csrf: string,
  alertId: string,
  alert: { base: string; quote: string; threshold: string },
): Html {
  return html`<h1>Delete alert</h1>
<form class="stack" method="post" action="/alerts/${alertId}/delete">
  ${csrfField(csrf)}<input type="hidden" name="confirm" value="yes">
  <p>${deleteQuestion(alert)}</p>
  <div class="row"><button class="danger" type="submit">Delete</button><a href="/alerts">Cancel</a></div>
</form>`;
}
