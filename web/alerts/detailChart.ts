import { scaleLinear, scaleUtc } from 'd3-scale';
import { line, symbol, symbolTriangle } from 'd3-shape';
import { formatRatio } from '../../events/ratio.ts';
import { html, type Html } from '../../platform/html.ts';

/** A run's ratio: `asOf` is the rates' date (YYYY-MM-DD), `ratio` the exact decimal. */
export type DetailPoint = { asOf: string; ratio: string };

/**
 * What the ratio is measured against: a threshold alert's line, or (for a change alert) a band of ratios from `from`
 * to `to` that the ratio stays inside until the alert triggers.
 */
export type ChartGuide =
  | { kind: 'threshold'; value: string }
  | { kind: 'band'; from: string; to: string; label: string }
  /** A change alert before its pair has enough runs for a band: said in words, nothing drawn. */
  | { kind: 'none'; label: string };

export type ChartTrigger = { asOf: string; ratio: string; direction: 'up' | 'down' };

/** The drawing's size in SVG units and how many ticks each axis aims for (d3 picks round values near that many). */
export type ChartSize = { width: number; height: number; xTicks: number; yTicks: number };

export const WIDE: ChartSize = { width: 720, height: 320, xTicks: 7, yTicks: 6 };
export const NARROW: ChartSize = { width: 360, height: 260, xTicks: 3, yTicks: 5 };

export type DetailChartInput = {
  base: string;
  quote: string;
  /** Oldest first. */
  points: readonly DetailPoint[];
  guide: ChartGuide;
  /** The runs that triggered the alert: each is marked where its ratio was. */
  triggers: readonly ChartTrigger[];
  size?: ChartSize;
};

const MARGIN = { top: 14, right: 18, bottom: 46, left: 70 };
const DAY_MS = 86_400_000;
const dateOf = (asOf: string) => new Date(`${asOf}T00:00:00Z`);
// Pixel positions only: numbers here place marks on a screen and decide nothing (comparisons stay exact elsewhere).
const px = (n: number) => Math.round(n * 10) / 10;
const triangle = symbol(symbolTriangle, 64)()!;

function accessibleName(input: DetailChartInput): string {
  const pair = `${input.base}/${input.quote}`;
  const guide =
    input.guide.kind === 'threshold'
      ? `threshold ${input.guide.value}`
      : input.guide.kind === 'band'
        ? `${input.guide.label} from ${input.guide.from} to ${input.guide.to}`
        : input.guide.label;
  const first = input.points[0];
  const last = input.points.at(-1);
  const triggered = input.triggers.length === 1 ? '1 trigger' : `${input.triggers.length} triggers`;
  if (!first || !last) return `${pair}: no rates yet; ${guide}`;
  const shown = (p: DetailPoint) =>
    `${formatRatio(p.ratio, 6, input.guide.kind === 'threshold' ? input.guide.value : undefined)} on ${p.asOf}`;
  const span = first === last ? shown(last) : `from ${shown(first)} to ${shown(last)}`;
  return `${pair} over ${input.points.length} runs, ${span}; ${guide}; ${triggered} marked`;
}

/**
 * The alert detail page's chart of a pair's ratio over the stored runs, drawn on the server as SVG: dated x axis,
 * labelled ratio axis, the threshold line (or a band) and a triangle at each trigger. Pure: the same input always
 * gives the same markup; d3-scale picks the scales and their ticks, d3-shape the line and the marks.
 */
export function detailChart(input: DetailChartInput): Html {
  const size = input.size ?? WIDE;
  const { width, height } = size;
  const name = accessibleName(input);
  const pair = `${input.base}/${input.quote}`;
  if (input.points.length === 0)
    return html`<p class="muted chart-empty">No run has rates for ${pair} yet: the chart appears after the first.</p>`;

  const dates = input.points.map((p) => dateOf(p.asOf).getTime());
  let [start, end] = [Math.min(...dates), Math.max(...dates)];
  if (start === end) [start, end] = [start - DAY_MS, end + DAY_MS];
  const x = scaleUtc()
    .domain([new Date(start), new Date(end)])
    .range([MARGIN.left, width - MARGIN.right]);

  const guideValues =
    input.guide.kind === 'threshold'
      ? [input.guide.value]
      : input.guide.kind === 'band'
        ? [input.guide.from, input.guide.to]
        : [];
  const values = [...input.points.map((p) => p.ratio), ...guideValues, ...input.triggers.map((t) => t.ratio)].map(
    Number,
  );
  let [low, high] = [Math.min(...values), Math.max(...values)];
  if (low === high) [low, high] = [low - (Math.abs(low) * 0.01 || 1), high + (Math.abs(high) * 0.01 || 1)];
  const y = scaleLinear()
    .domain([low, high])
    .nice(size.yTicks)
    .range([height - MARGIN.bottom, MARGIN.top]);

  const path = line<DetailPoint>()
    .x((p) => x(dateOf(p.asOf)))
    .y((p) => y(Number(p.ratio)))
    .digits(1)(input.points);
  const xTicks = x.ticks(size.xTicks);
  const xLabel = x.tickFormat(size.xTicks);
  const yTicks = y.ticks(size.yTicks);
  const yLabel = y.tickFormat(size.yTicks);
  const [left, right] = [MARGIN.left, width - MARGIN.right];
  const [bottom, top] = [height - MARGIN.bottom, MARGIN.top];

  const guide =
    input.guide.kind === 'threshold'
      ? html`<g class="guide threshold"><line x1="${left}" y1="${px(y(Number(input.guide.value)))}" x2="${right}" y2="${px(y(Number(input.guide.value)))}"></line>
<text x="${right - 4}" y="${px(y(Number(input.guide.value)) - 5)}" text-anchor="end">threshold ${input.guide.value}</text></g>`
      : input.guide.kind === 'band'
        ? bandOf(input.guide, y, left, right)
        : '';

  const last = input.points.at(-1)!;
  const shownTriggers = input.triggers.filter((t) => {
    const at = dateOf(t.asOf).getTime();
    return at >= start && at <= end;
  });
  const hint = input.guide.kind === 'threshold' ? input.guide.value : undefined;
  return html`<svg class="detail-chart" role="img" aria-label="${name}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">
<title>${name}</title>
<g class="axis y-axis">${yTicks.map(
    (v) =>
      html`<line class="grid" x1="${left}" y1="${px(y(v))}" x2="${right}" y2="${px(y(v))}"></line><text x="${left - 6}" y="${px(y(v))}" dy="0.32em" text-anchor="end">${yLabel(v)}</text>`,
  )}
<text class="axis-title" transform="translate(14 ${px((top + bottom) / 2)}) rotate(-90)" text-anchor="middle">${input.quote} per 1 ${input.base}</text></g>
<g class="axis x-axis"><line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}"></line>${xTicks.map(
    (d) =>
      html`<line x1="${px(x(d))}" y1="${bottom}" x2="${px(x(d))}" y2="${bottom + 5}"></line><text x="${px(x(d))}" y="${bottom + 18}" text-anchor="middle">${xLabel(d)}</text>`,
  )}
<text class="axis-title" x="${px((left + right) / 2)}" y="${height - 6}" text-anchor="middle">Date of the rates (UTC)</text></g>
${guide}
${input.points.length > 1 ? html`<path class="ratio-line" d="${path ?? ''}"></path>` : ''}
<circle class="latest" cx="${px(x(dateOf(last.asOf)))}" cy="${px(y(Number(last.ratio)))}" r="3.5"></circle>
<g class="triggers">${shownTriggers.map(
    (t) =>
      html`<path class="trigger ${t.direction}" d="${triangle}" transform="translate(${px(x(dateOf(t.asOf)))} ${px(y(Number(t.ratio)))})${t.direction === 'down' ? ' rotate(180)' : ''}"><title>Triggered ${t.direction === 'up' ? 'upward' : 'downward'} on ${t.asOf} at ${formatRatio(t.ratio, 6, hint)}</title></path>`,
  )}</g>
</svg>`;
}

function bandOf(
  band: Extract<ChartGuide, { kind: 'band' }>,
  y: (v: number) => number,
  left: number,
  right: number,
): Html {
  const [a, b] = [y(Number(band.from)), y(Number(band.to))];
  const [top, bottom] = [Math.min(a, b), Math.max(a, b)];
  return html`<g class="guide band"><rect x="${left}" y="${px(top)}" width="${right - left}" height="${px(bottom - top)}"></rect>
<text x="${right - 4}" y="${px(top - 5)}" text-anchor="end">${band.label}</text></g>`;
}
