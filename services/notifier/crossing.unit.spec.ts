import { describe, expect, it } from 'vitest';
import {
  crossedAlerts,
  crossing,
  type AlertRecord,
  type Crossing,
  type RecordedTrigger,
  type Run,
} from './crossing.ts';
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
        kind: 'threshold',
        threshold: '1.08',
        alertDirection: 'either',
        repeat: 'every',
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

  describe('alert kinds (docs/design.md §4b)', () => {
    const ids = (runs: Run[], alerts: AlertRecord[], triggers: RecordedTrigger[] = []) =>
      crossedAlerts(runs, alerts, triggers).map((c) => c.alertId);
    const up = [run(1, { USD: '1.07' }), run(2, { USD: '1.09' })];
    const down = [run(1, { USD: '1.09' }), run(2, { USD: '1.07' })];
    const directed = [alert('either'), alert('up', { direction: 'up' }), alert('down', { direction: 'down' })];

    it('up triggers only on p < t ≤ c, down only on p > t ≥ c, either on both', () => {
      expect(ids(up, directed)).toEqual(['either', 'up']);
      expect(ids(down, directed)).toEqual(['down', 'either']);
      const landing = [run(1, { USD: '1.07' }), run(2, { USD: '1.08' })];
      expect(ids(landing, directed)).toEqual(['either', 'up']);
    });

    it('a change alert compares with the ratio `runs` runs earlier, counting only runs with both currencies', () => {
      // EUR/USD 1.00 → 1.01 → (no USD) → 1.02 → 1.03: over 1 run +0.98 %; over 3 runs (1.00, skipping the gap) +3 %.
      const runs = [
        run(1, { USD: '1.00', GBP: '0.8' }),
        run(2, { USD: '1.01' }),
        run(3, { GBP: '0.8' }),
        run(4, { USD: '1.02' }),
        run(5, { USD: '1.03' }),
      ];
      const change = (id: string, percent: string, runsBack: number, more: Partial<AlertRecord> = {}) =>
        alert(id, { kind: 'change', threshold: undefined, percent, runs: runsBack, ...more });
      const alerts = [
        change('one-run-0.9', '0.9', 1),
        change('one-run-1', '1', 1),
        change('three-runs-3', '3', 3),
        change('three-runs-3.01', '3.01', 3),
        change('three-runs-down', '1', 3, { direction: 'down' }),
        change('too-far-back', '0.1', 5),
      ];
      const found = crossedAlerts(runs, alerts);
      expect(found.map((c) => c.alertId)).toEqual(['one-run-0.9', 'three-runs-3']);
      expect(found[1]).toMatchObject({
        kind: 'change',
        percent: '3',
        runs: 3,
        previousRatio: '1',
        currentRatio: '1.03',
      });
      expect(found[1]).not.toHaveProperty('threshold');
    });

    it('a change alert triggers on exactly its percent, either way, and not on an unchanged ratio', () => {
      const change = (id: string, more: Partial<AlertRecord> = {}) =>
        alert(id, { kind: 'change', threshold: undefined, percent: '2', ...more });
      // |c − p|·100 ≥ percent·p: 1.25 → 1.275 is exactly 2 %, 1.275 → 1.2495 is exactly 2 % down.
      expect(ids([run(1, { USD: '1.25' }), run(2, { USD: '1.275' })], [change('a')])).toEqual(['a']);
      expect(crossedAlerts([run(1, { USD: '1.275' }), run(2, { USD: '1.2495' })], [change('a')])).toMatchObject([
        { direction: 'down' },
      ]);
      expect(ids([run(1, { USD: '1.25' }), run(2, { USD: '1.27499' })], [change('a')])).toEqual([]);
      expect(ids([run(1, { USD: '1.25' }), run(2, { USD: '1.250' })], [change('a', { percent: '0.0001' })])).toEqual(
        [],
      );
    });

    it('a run whose rates date is after the expiry date never triggers the alert; one on it does', () => {
      const dated = (seq: number, asOf: string, rates: Record<string, string>): Run => ({ ...run(seq, rates), asOf });
      const runs = [dated(1, '2026-11-01', { USD: '1.07' }), dated(2, '2026-11-02T000231Z', { USD: '1.09' })];
      expect(ids(runs, [alert('on', { expires: '2026-11-02' }), alert('before', { expires: '2026-11-01' })])).toEqual([
        'on',
      ]);
      // A run without a rates date cannot show it is on or before the date.
      expect(ids(up, [alert('dateless', { expires: '2099-01-01' })])).toEqual([]);
    });

    it('a paused alert never triggers; one resumed or edited after the run sits that run out', () => {
      expect(ids(up, [alert('paused', { pausedSeq: 1 }), alert('paused-after', { pausedSeq: 3 })])).toEqual([
        'paused-after',
      ]);
      expect(ids(up, [alert('resumed-after', { activeSeq: 3 }), alert('resumed-before', { activeSeq: 1 })])).toEqual([
        'resumed-before',
      ]);
    });

    it('a once alert is done after a trigger recorded since it was armed, until re-armed; its own run may be retried', () => {
      const once = [alert('once', { repeat: 'once' })];
      const again = [...up, run(3, { USD: '1.07' }), run(4, { USD: '1.09' })];
      expect(ids(up, once)).toEqual(['once']);
      expect(ids(up, once, [{ alertId: 'once', runSeq: 2 }])).toEqual(['once']);
      expect(ids(again, once, [{ alertId: 'once', runSeq: 2 }])).toEqual([]);
      // Triggered before it was armed again (re-armed at 3, or edited: both arm it): it triggers once more.
      expect(ids(again, [alert('once', { repeat: 'once', armedSeq: 3 })], [{ alertId: 'once', runSeq: 2 }])).toEqual([
        'once',
      ]);
      expect(ids(again, [alert('every')], [{ alertId: 'every', runSeq: 2 }])).toEqual(['every']);
    });
  });
});
