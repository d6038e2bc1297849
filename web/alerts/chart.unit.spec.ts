import { describe, expect, it } from 'vitest';
import { ratioChart } from './chart.ts';

const attr = (markup: string, element: string, name: string) =>
  new RegExp(`<${element}[^>]*\\s${name}="([^"]*)"`).exec(markup)?.[1];
const points = (markup: string) =>
  attr(markup, 'polyline', 'points')!
    .split(' ')
    .map((p) => p.split(',').map(Number) as [number, number]);

describe('ratioChart', () => {
  it('draws the ratios oldest to newest, left to right, higher ratios higher up', () => {
    const svg = ratioChart({
      pair: 'EUR/USD',
      threshold: '1.08',
      points: [
        { asOf: '2026-11-01', ratio: '1.07' },
        { asOf: '2026-11-02', ratio: '1.09' },
        { asOf: '2026-11-03', ratio: '1.08' },
      ],
      width: 100,
      height: 50,
    }).value;
    const line = points(svg);
    expect(line).toHaveLength(3);
    expect(line.map(([x]) => x)).toEqual([3, 50, 97]);
    // 1.07 is the lowest (bottom edge), 1.09 the highest (top edge), 1.08 halfway.
    expect(line.map(([, y]) => y)).toEqual([47, 3, 25]);
    expect(attr(svg, 'svg', 'viewBox')).toBe('0 0 100 50');
  });

  it('draws the threshold as a horizontal line on the same scale', () => {
    const svg = ratioChart({
      pair: 'EUR/USD',
      threshold: '1.08',
      points: [
        { asOf: 'a', ratio: '1.07' },
        { asOf: 'b', ratio: '1.09' },
      ],
      width: 100,
      height: 50,
    }).value;
    expect(attr(svg, 'line', 'class')).toBe('threshold');
    expect(attr(svg, 'line', 'y1')).toBe('25');
    expect(attr(svg, 'line', 'y2')).toBe('25');
  });

  it('keeps a threshold outside the ratios in view', () => {
    const svg = ratioChart({
      pair: 'EUR/USD',
      threshold: '2',
      points: [
        { asOf: 'a', ratio: '1' },
        { asOf: 'b', ratio: '1.5' },
      ],
      width: 100,
      height: 50,
    }).value;
    expect(attr(svg, 'line', 'y1')).toBe('3');
    expect(points(svg).map(([, y]) => y)).toEqual([47, 25]);
  });

  it('draws one run as a dot, and flat series without dividing by zero', () => {
    const one = ratioChart({
      pair: 'EUR/USD',
      threshold: '1.08',
      points: [{ asOf: '2026-11-02', ratio: '1.08' }],
      width: 100,
      height: 50,
    }).value;
    expect(one).not.toContain('<polyline');
    expect(attr(one, 'circle', 'cx')).toBe('50');
    expect(attr(one, 'circle', 'cy')).toBe('25');
    expect(one).not.toContain('NaN');
    const flat = ratioChart({
      pair: 'EUR/USD',
      threshold: '1',
      points: [
        { asOf: 'a', ratio: '1' },
        { asOf: 'b', ratio: '1' },
      ],
    }).value;
    expect(flat).not.toMatch(/NaN|Infinity/);
  });

  it('says what it shows, with readable ratios, for screen readers', () => {
    const svg = ratioChart({
      pair: 'USD/JPY',
      threshold: '150',
      points: [
        { asOf: '2026-11-01', ratio: '149.12345678901234567' },
        { asOf: '2026-11-02', ratio: '150.96535796766743649' },
      ],
    }).value;
    expect(svg).toContain('role="img"');
    expect(svg).toContain(
      '<title>USD/JPY over 2 runs, from 149.123 on 2026-11-01 to 150.965 on 2026-11-02; threshold 150</title>',
    );
  });

  it('escapes what it is given', () => {
    const svg = ratioChart({ pair: '<b>X</b>', threshold: '1', points: [{ asOf: '<i>', ratio: '1.5' }] }).value;
    expect(svg).not.toContain('<b>');
    expect(svg).not.toContain('<i>');
    expect(svg).toContain('&lt;b&gt;');
  });

  it('says so when there is nothing to draw', () => {
    expect(ratioChart({ pair: 'EUR/USD', threshold: '1', points: [] }).value).toContain('No rates yet');
  });
});
