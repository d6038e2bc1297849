import { formatRatio } from '../../events/ratio.ts';
import { html, type Html } from '../../platform/html.ts';

export type ChartPoint = { asOf: string; ratio: string };

export type RatioChartInput = {
  /** What the chart shows, e.g. "EUR/USD", for its accessible name. */
  pair: string;
  /** Oldest first. */
  points: readonly ChartPoint[];
  /** A threshold alert's threshold, drawn as a dashed line; a change alert has none. */
  threshold?: string | undefined;
  width?: number;
  height?: number;
};

const PAD = 3;

// Pixel positions only: the numbers here place dots on a screen and never decide anything (comparisons stay exact elsewhere).
const round = (n: number) => Math.round(n * 10) / 10;

/**
 * A small server-rendered line chart of a pair's ratio over recent runs, with the threshold as a dashed line.
 * Pure: the same input always gives the same markup, so it is tested without a browser.
 */
export function ratioChart(input: RatioChartInput): Html {
  const width = input.width ?? 180;
  const height = input.height ?? 48;
  const { points, threshold, pair } = input;
  if (points.length === 0) return html`<span class="muted chart-empty">No rates yet</span>`;

  const values = points.map((p) => Number(p.ratio));
  const limits = threshold === undefined ? [] : [Number(threshold)];
  let low = Math.min(...values, ...limits);
  let high = Math.max(...values, ...limits);
  if (high === low) {
    const spread = Math.abs(high) * 0.01 || 1;
    low -= spread;
    high += spread;
  }
  const x = (i: number) => round(points.length === 1 ? width / 2 : PAD + (i * (width - 2 * PAD)) / (points.length - 1));
  const y = (v: number) => round(PAD + ((high - v) * (height - 2 * PAD)) / (high - low));

  const first = points[0]!;
  const last = points.at(-1)!;
  const shown = (p: ChartPoint) => `${formatRatio(p.ratio, 6, threshold)} on ${p.asOf}`;
  const of = threshold === undefined ? '' : `; threshold ${threshold}`;
  const label =
    points.length === 1
      ? `${pair}: ${shown(last)}${of}`
      : `${pair} over ${points.length} runs, from ${shown(first)} to ${shown(last)}${of}`;
  const line = points.map((_, i) => `${x(i)},${y(values[i]!)}`).join(' ');
  return html`<svg class="chart" role="img" aria-label="${label}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
<title>${label}</title>
${limits.map((limit) => html`<line class="threshold" x1="0" y1="${y(limit)}" x2="${width}" y2="${y(limit)}"></line>`)}
${points.length > 1 ? html`<polyline points="${line}"></polyline>` : ''}
<circle class="latest" cx="${x(points.length - 1)}" cy="${y(values.at(-1)!)}" r="2.5"></circle>
</svg>`;
}
