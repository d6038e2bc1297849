import { ruleSummary } from '../../events/index.ts';
import { html, type Html } from '../../platform/html.ts';
import type { HistoryEntry } from './alertHistory.ts';
import { detailChart, NARROW, WIDE, type DetailChartInput } from './detailChart.ts';
import type { DetailAlert } from './detailQueries.ts';
import type { AlertSummary } from './queries.ts';
import { sideOf, when } from './views.ts';

export type DetailParts = {
  alert: DetailAlert;
  current: AlertSummary['current'];
  chart: Omit<DetailChartInput, 'size'>;
  history: readonly HistoryEntry[];
  triggerCount: number;
};

const pairOf = (a: { base: string; quote: string }) => `${a.base}/${a.quote}`;

function facts(parts: DetailParts): Html {
  const { alert, current } = parts;
  return html`<dl class="facts">
  <div><dt>Rule</dt><dd>${ruleSummary(alert.rule)} <span class="muted">(${alert.quote} per 1 ${alert.base})</span></dd></div>
  <div><dt>Now</dt><dd>${
    current
      ? html`<span class="ratio">${current.shown}</span> ${sideOf(current)} <span class="muted">(rates of ${current.asOf})</span>`
      : html`<span class="muted">No rates for this pair yet</span>`
  }</dd></div>
  <div><dt>Status</dt><dd>${alert.deletedAt ? html`<strong class="paused">Deleted</strong> ${when(alert.deletedAt)}` : alert.paused ? html`<strong class="paused">Paused</strong>: it triggers no more until resumed` : 'Active'}</dd></div>
  <div><dt>Triggered</dt><dd>${parts.triggerCount === 0 ? 'Never' : parts.triggerCount === 1 ? 'Once' : `${parts.triggerCount} times`}</dd></div>
</dl>`;
}

/** One alert: what it watches, its pair's ratio over the stored runs with the threshold and triggers, and its history. */
export function alertDetailPage(parts: DetailParts): Html {
  const { alert } = parts;
  const pair = pairOf(alert);
  return html`<p class="back"><a href="/alerts">← All alerts</a></p>
<h1>${pair} ${ruleSummary(alert.rule)}</h1>
${facts(parts)}
<section class="detail-section" aria-labelledby="chart-heading">
  <h2 id="chart-heading">${pair} over the stored runs</h2>
  <figure class="chart-figure">
    <div class="chart-wide">${detailChart({ ...parts.chart, size: WIDE })}</div>
    <div class="chart-narrow">${detailChart({ ...parts.chart, size: NARROW })}</div>
    <figcaption class="muted">The line is the ratio at each run (${alert.quote} per 1 ${alert.base}); ${alert.rule.kind === 'threshold' ? 'the dashed line is the threshold' : 'the band is the change the latest run is measured against'}; a triangle marks each run that triggered this alert, pointing the way the ratio moved.</figcaption>
  </figure>
</section>
<section class="detail-section" aria-labelledby="history-heading">
  <h2 id="history-heading">History</h2>
  ${
    parts.history.length === 0
      ? html`<p class="muted">Nothing recorded yet.</p>`
      : html`<ol class="history">${parts.history.map(
          (h) => html`<li class="${h.kind}">${when(h.at)} <span>${h.text}</span></li>`,
        )}</ol>`
  }
  <p class="muted">From the event log (the alert's own events) and the read models built from it (its triggers and the emails that told you).</p>
</section>`;
}
