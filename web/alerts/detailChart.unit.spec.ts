import { describe, expect, it } from 'vitest';
import { detailChart, NARROW, WIDE, type DetailChartInput } from './detailChart.ts';

const days = (ratios: string[], from = Date.UTC(2026, 9, 1)) =>
  ratios.map((ratio, i) => ({ asOf: new Date(from + i * 86_400_000).toISOString().slice(0, 10), ratio }));

const input = (over: Partial<DetailChartInput> = {}): DetailChartInput => ({
  base: 'EUR',
  quote: 'USD',
  points: days(['1.07', '1.09', '1.08', '1.075']),
  guide: { kind: 'threshold', value: '1.08' },
  triggers: [],
  ...over,
});

const all = (svg: string, pattern: RegExp) => [...svg.matchAll(pattern)];
/** The y of the guide's threshold line, and the y of each y-axis tick label with its text. */
const thresholdY = (svg: string) => Number(/<g class="guide threshold"><line [^>]*y1="([\d.]+)"/.exec(svg)![1]);
const yTicks = (svg: string) =>
  all(svg, /<text x="\d+" y="([\d.]+)" dy="0.32em" text-anchor="end">([^<]+)<\/text>/g).map((m) => ({
    y: Number(m[1]),
    label: m[2]!,
  }));
const xLabels = (svg: string) =>
  all(svg, /<text x="[\d.]+" y="[\d.]+" text-anchor="middle">([^<]+)<\/text>/g).map((m) => m[1]!);

describe('detailChart', () => {
  it('labels both axes: dates along the bottom, the ratio (QUOTE per 1 BASE) up the side', () => {
    const svg = detailChart(input()).value;
    expect(svg).toContain('>USD per 1 EUR</text>');
    expect(svg).toContain('>Date of the rates (UTC)</text>');
    expect(xLabels(svg).filter((l) => /^(Oct|Sun|Mon|Tue|Wed|Thu|Fri|Sat)/.test(l)).length).toBeGreaterThan(1);
    const labels = yTicks(svg).map((t) => t.label);
    expect(labels.length).toBeGreaterThanOrEqual(3);
    // Round values, ascending up the axis (a smaller y is higher on screen).
    const ys = yTicks(svg).map((t) => t.y);
    expect([...ys].sort((a, b) => b - a)).toEqual(ys);
    expect(labels.every((l) => /^1\.\d{2,3}$/.test(l))).toBe(true);
  });

  it('draws the threshold on the same scale as the ticks', () => {
    const svg = detailChart(input()).value;
    const tick = yTicks(svg).find((t) => t.label === '1.080')?.y ?? yTicks(svg).find((t) => t.label === '1.08')?.y;
    expect(tick).toBeDefined();
    expect(thresholdY(svg)).toBe(tick);
    expect(svg).toContain('>threshold 1.08</text>');
  });

  it('keeps a threshold far from the ratios in view', () => {
    const svg = detailChart(input({ guide: { kind: 'threshold', value: '1.5' } })).value;
    const ys = yTicks(svg).map((t) => t.y);
    expect(thresholdY(svg)).toBeGreaterThanOrEqual(Math.min(...ys));
    expect(thresholdY(svg)).toBeLessThanOrEqual(Math.max(...ys));
  });

  it('marks each trigger where its ratio was, pointing the way it crossed', () => {
    const points = days(['1.07', '1.09', '1.07']);
    const svg = detailChart(
      input({
        points,
        triggers: [
          { asOf: points[1]!.asOf, ratio: '1.09', direction: 'up' },
          { asOf: points[2]!.asOf, ratio: '1.07', direction: 'down' },
        ],
      }),
    ).value;
    const marks = all(
      svg,
      /<path class="trigger (up|down)" d="[^"]+" transform="translate\(([\d.]+) ([\d.]+)\)([^"]*)"/g,
    );
    expect(marks.map((m) => m[1])).toEqual(['up', 'down']);
    expect(marks[1]![4]).toBe(' rotate(180)');
    // The same x as the line's second and third points, higher for 1.09 than for 1.07.
    const line = /<path class="ratio-line" d="M([\d.]+),([\d.]+)L([\d.]+),([\d.]+)L([\d.]+),([\d.]+)"/.exec(svg)!;
    expect(marks[0]![2]).toBe(line[3]);
    expect(marks[0]![3]).toBe(line[4]);
    expect(marks[1]![2]).toBe(line[5]);
    expect(Number(marks[0]![3])).toBeLessThan(Number(marks[1]![3]));
    expect(svg).toContain('<title>Triggered upward on 2026-10-02 at 1.09</title>');
  });

  it('leaves out a trigger older than the runs it shows', () => {
    const svg = detailChart(input({ triggers: [{ asOf: '2020-01-01', ratio: '1.2', direction: 'up' }] })).value;
    expect(svg).not.toContain('class="trigger ');
  });

  it('draws a band instead of a line when given one (a change alert)', () => {
    const svg = detailChart(
      input({ guide: { kind: 'band', from: '1.0692', to: '1.0908', label: '±1% of 1.08' } }),
    ).value;
    expect(svg).not.toContain('class="guide threshold"');
    const rect = /<g class="guide band"><rect x="(\d+)" y="([\d.]+)" width="(\d+)" height="([\d.]+)">/.exec(svg)!;
    expect(Number(rect[4])).toBeGreaterThan(0);
    expect(svg).toContain('>±1% of 1.08</text>');
    expect(svg).toContain('±1% of 1.08 from 1.0692 to 1.0908');
  });

  it('names the chart for screen readers, ratios shown as the alerts page shows them', () => {
    const svg = detailChart(input({ points: days(['1.0712345678901234567', '1.0812345678901234']) })).value;
    const name = /aria-label="([^"]+)"/.exec(svg)![1];
    expect(name).toBe(
      'EUR/USD over 2 runs, from 1.07123 on 2026-10-01 to 1.08123 on 2026-10-02; threshold 1.08; 0 triggers marked',
    );
    expect(svg).toContain('role="img"');
    expect(svg).toContain(`<title>${name}</title>`);
  });

  it('escapes what it is given', () => {
    const svg = detailChart(input({ guide: { kind: 'band', from: '1', to: '2', label: '<b>"x"</b>' } })).value;
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('&lt;b&gt;&quot;x&quot;&lt;/b&gt;');
  });

  it('draws one run as a dot on a day-wide axis, and says so when there is no run', () => {
    const one = detailChart(input({ points: days(['1.08']) })).value;
    expect(one).not.toContain('class="ratio-line"');
    expect(one).toContain('<circle class="latest"');
    expect(detailChart(input({ points: [] })).value).toContain('No run has rates for EUR/USD yet');
  });

  it('fits the size asked for, with fewer ticks when narrow, and is the same every time', () => {
    const wide = detailChart(input({ size: WIDE })).value;
    const narrow = detailChart(input({ size: NARROW })).value;
    expect(wide).toContain('viewBox="0 0 720 320"');
    expect(narrow).toContain('viewBox="0 0 360 260"');
    expect(detailChart(input({ size: NARROW })).value).toBe(narrow);
    const numbers = (svg: string) => all(svg, /\b(?:x|x1|x2|cx)="([\d.]+)"/g).map((m) => Number(m[1]));
    expect(Math.max(...numbers(narrow))).toBeLessThanOrEqual(360);
    expect(Math.max(...numbers(wide))).toBeLessThanOrEqual(720);
  });
});
