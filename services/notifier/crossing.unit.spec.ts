import { describe, expect, it } from 'vitest';
import { crossedAlerts, crossing, type AlertRecord, type Crossing, type Run } from './crossing.ts';
import type { Rates } from '../../events/ratio.ts';

// Frankfurter-style runs: EUR is the provider base at "1"; other rates are units per 1 EUR.
const eur = (rates: Record<string, string>): Rates => ({ EUR: '1', ...rates });

type Case = {
  name: string;
  pair: string;
  threshold: string;
  previous: Rates | undefined;
  current: Rates;
  expected: Crossing | null;
};

const cases: Case[] = [
  {
    name: 'crossed upward',
    pair: 'EUR/USD',
    threshold: '1.08',
    previous: eur({ USD: '1.07' }),
    current: eur({ USD: '1.09' }),
    expected: { direction: 'up', previousRatio: '1.07', currentRatio: '1.09' },
  },
  {
    name: 'crossed downward',
    pair: 'EUR/USD',
    threshold: '1.08',
    previous: eur({ USD: '1.09' }),
    current: eur({ USD: '1.07' }),
    expected: { direction: 'down', previousRatio: '1.09', currentRatio: '1.07' },
  },
  {
    name: 'landing exactly on the threshold from below triggers up',
    pair: 'EUR/USD',
    threshold: '1.08',
    previous: eur({ USD: '1.07' }),
    current: eur({ USD: '1.0800' }),
    expected: { direction: 'up', previousRatio: '1.07', currentRatio: '1.08' },
  },
  {
    name: 'landing exactly on the threshold from above triggers down',
    pair: 'EUR/USD',
    threshold: '1.08',
    previous: eur({ USD: '1.09' }),
    current: eur({ USD: '1.08' }),
    expected: { direction: 'down', previousRatio: '1.09', currentRatio: '1.08' },
  },
  {
    name: 'sitting on the threshold and leaving upward does not trigger',
    pair: 'EUR/USD',
    threshold: '1.08',
    previous: eur({ USD: '1.08' }),
    current: eur({ USD: '1.09' }),
    expected: null,
  },
  {
    name: 'sitting on the threshold and leaving downward does not trigger',
    pair: 'EUR/USD',
    threshold: '1.08',
    previous: eur({ USD: '1.08' }),
    current: eur({ USD: '1.07' }),
    expected: null,
  },
  {
    name: 'staying on the threshold does not trigger',
    pair: 'EUR/USD',
    threshold: '1.08',
    previous: eur({ USD: '1.08' }),
    current: eur({ USD: '1.08' }),
    expected: null,
  },
  {
    name: 'moving without reaching the threshold does not trigger',
    pair: 'EUR/USD',
    threshold: '1.08',
    previous: eur({ USD: '1.07' }),
    current: eur({ USD: '1.0799' }),
    expected: null,
  },
  {
    name: 'moving away from the threshold does not trigger',
    pair: 'EUR/USD',
    threshold: '1.08',
    previous: eur({ USD: '1.09' }),
    current: eur({ USD: '1.10' }),
    expected: null,
  },
  {
    name: 'no earlier run: nothing to compare with',
    pair: 'EUR/USD',
    threshold: '1.08',
    previous: undefined,
    current: eur({ USD: '1.09' }),
    expected: null,
  },
  {
    name: 'a currency missing from this run is skipped',
    pair: 'GBP/USD',
    threshold: '1.27',
    previous: eur({ USD: '1.07', GBP: '0.85' }),
    current: eur({ USD: '1.09' }),
    expected: null,
  },
  {
    name: 'inverse pair against the provider base (USD/EUR)',
    pair: 'USD/EUR',
    threshold: '0.81',
    previous: eur({ USD: '1.25' }),
    current: eur({ USD: '1.2' }),
    expected: { direction: 'up', previousRatio: '0.8', currentRatio: '0.83333333333333333333' },
  },
  {
    name: 'cross rate between two quoted currencies (GBP/JPY from a EUR base)',
    pair: 'GBP/JPY',
    threshold: '190',
    previous: eur({ GBP: '0.85', JPY: '160' }),
    current: eur({ GBP: '0.84', JPY: '161' }),
    expected: { direction: 'up', previousRatio: '188.23529411764705882', currentRatio: '191.66666666666666667' },
  },
  {
    name: 'cross rate going down past a threshold it only touched in exact maths',
    pair: 'GBP/JPY',
    threshold: '200',
    previous: eur({ GBP: '0.8', JPY: '160.8' }),
    current: eur({ GBP: '0.81', JPY: '162' }),
    expected: { direction: 'down', previousRatio: '201', currentRatio: '200' },
  },
  {
    name: 'landing on the threshold only in exact maths (0.3 / 0.1: floats say 2.9999999999999996)',
    pair: 'XAG/XAU',
    threshold: '3',
    previous: eur({ XAG: '0.1', XAU: '0.29' }),
    current: eur({ XAG: '0.1', XAU: '0.3' }),
    expected: { direction: 'up', previousRatio: '2.9', currentRatio: '3' },
  },
  {
    name: 'a threshold of 18 significant digits just above the new ratio (floats round it to 1.08)',
    pair: 'EUR/USD',
    threshold: '1.08000000000000001',
    previous: eur({ USD: '1.07' }),
    current: eur({ USD: '1.08' }),
    expected: null,
  },
  {
    name: 'a rate reaching an 18-significant-digit threshold exactly',
    pair: 'EUR/USD',
    threshold: '1.08000000000000001',
    previous: eur({ USD: '1.07' }),
    current: eur({ USD: '1.080000000000000010' }),
    expected: { direction: 'up', previousRatio: '1.07', currentRatio: '1.08000000000000001' },
  },
  {
    name: 'a cross rate reaching a large 18-significant-digit threshold exactly (BTC/JPY)',
    pair: 'BTC/JPY',
    threshold: '10083850.9316770187',
    previous: eur({ BTC: '0.0000161', JPY: '162.35' }),
    current: eur({ BTC: '0.0000161', JPY: '162.35000000000000107' }),
    expected: { direction: 'up', previousRatio: '10083850.931677018634', currentRatio: '10083850.9316770187' },
  },
  {
    name: 'a cross rate stopping one unit short of a large 18-significant-digit threshold',
    pair: 'BTC/JPY',
    threshold: '10083850.9316770187',
    previous: eur({ BTC: '0.0000161', JPY: '162.35' }),
    current: eur({ BTC: '0.0000161', JPY: '162.35000000000000106' }),
    expected: null,
  },
];

describe('the crossing rule (docs/design.md §4)', () => {
  it.each(cases)('$name', ({ pair, threshold, previous, current, expected }) => {
    const [base, quote] = pair.split('/') as [string, string];
    expect(crossing(current, previous, { base, quote, threshold })).toEqual(expected);
  });

  it('uses a case that floats would get wrong', () => {
    // Proves the float-trap cases above are meaningful: floats get both comparisons wrong.
    expect(3 <= 0.3 / 0.1).toBe(false);
    expect(Number('1.08000000000000001') <= 1.08).toBe(true);
  });
});

describe('crossedAlerts, the in-memory oracle over a log', () => {
  const alert = (alertId: string, overrides: Partial<AlertRecord> = {}): AlertRecord => ({
    alertId,
    userId: 'u1',
    base: 'EUR',
    quote: 'USD',
    threshold: '1.08',
    setSeq: 1,
    deletedSeq: null,
    ...overrides,
  });
  const run = (seq: number, rates: Record<string, string>): Run => ({ seq, rates: eur(rates) });

  it('triggers nothing on the very first run', () => {
    expect(crossedAlerts([run(2, { USD: '1.09' })], [alert('a')])).toEqual([]);
  });

  it('compares an alert set between two runs with the earlier run', () => {
    const runs = [run(1, { USD: '1.07' }), run(3, { USD: '1.09' })];
    expect(crossedAlerts(runs, [alert('a', { setSeq: 2 })])).toEqual([
      {
        alertId: 'a',
        userId: 'u1',
        base: 'EUR',
        quote: 'USD',
        threshold: '1.08',
        direction: 'up',
        previousRatio: '1.07',
        currentRatio: '1.09',
      },
    ]);
  });

  it('ignores alerts set after the run or deleted before it, and keeps ones deleted after it', () => {
    const runs = [run(10, { USD: '1.07' }), run(20, { USD: '1.09' })];
    const alerts = [
      alert('set-after', { setSeq: 21 }),
      alert('deleted-before', { setSeq: 1, deletedSeq: 15 }),
      alert('deleted-after', { setSeq: 1, deletedSeq: 25 }),
    ];
    expect(crossedAlerts(runs, alerts).map((c) => c.alertId)).toEqual(['deleted-after']);
  });

  it('compares with the last run that had both currencies when one is missing in between', () => {
    const runs = [run(1, { USD: '1.07', GBP: '0.85' }), run(2, { GBP: '0.86' }), run(3, { USD: '1.09', GBP: '0.86' })];
    expect(crossedAlerts(runs.slice(0, 2), [alert('a')])).toEqual([]);
    expect(crossedAlerts(runs, [alert('a')])).toMatchObject([
      { alertId: 'a', previousRatio: '1.07', currentRatio: '1.09' },
    ]);
  });

  it('compares with the last run after a missed day', () => {
    const runs = [run(1, { USD: '1.06' }), run(2, { USD: '1.075' }), run(9, { USD: '1.09' })];
    expect(crossedAlerts(runs, [alert('a')])).toMatchObject([
      { direction: 'up', previousRatio: '1.075', currentRatio: '1.09' },
    ]);
  });

  it('triggers nothing on a duplicate run with the same rates', () => {
    const runs = [run(1, { USD: '1.07' }), run(2, { USD: '1.08' }), run(3, { USD: '1.08' })];
    const alerts = [alert('at', { threshold: '1.08' }), alert('between', { threshold: '1.075' })];
    expect(crossedAlerts(runs.slice(0, 2), alerts).map((c) => c.alertId)).toEqual(['at', 'between']);
    expect(crossedAlerts(runs, alerts)).toEqual([]);
  });

  it('compares runs from providers with different bases by ratio', () => {
    // EUR-based, then USD-based (open-er-api style, USD listed at 1): EUR/USD goes 1.07 → 1 / 0.92.
    const runs: Run[] = [run(1, { USD: '1.07' }), { seq: 2, rates: { USD: '1', EUR: '0.92' } }];
    expect(crossedAlerts(runs, [alert('a')])).toMatchObject([
      { direction: 'up', previousRatio: '1.07', currentRatio: '1.0869565217391304348' },
    ]);
  });

  it('triggers again on a later crossing and lists the triggers by user then alert', () => {
    const alerts = [alert('b', { userId: 'u2' }), alert('z'), alert('a')];
    const up = [run(1, { USD: '1.07' }), run(2, { USD: '1.09' })];
    const down = [...up, run(3, { USD: '1.07' })];
    expect(crossedAlerts(up, alerts).map((c) => [c.userId, c.alertId, c.direction])).toEqual([
      ['u1', 'a', 'up'],
      ['u1', 'z', 'up'],
      ['u2', 'b', 'up'],
    ]);
    expect(crossedAlerts(down, alerts).map((c) => c.direction)).toEqual(['down', 'down', 'down']);
  });
});
