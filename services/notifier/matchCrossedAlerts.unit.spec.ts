import { describe, expect, it } from 'vitest';
import { readCrossedAlerts } from './matchCrossedAlerts.ts';

// The statement's row for three moved groups (EUR/USD up over 1 run, USD/EUR down over 1 run, EUR/USD up over 3 runs)
// and four triggered alerts, by user then alert.
const row = {
  pairs: '1 EUR USD 1 1 1.07 1 1.09 up 2 USD EUR 1 1.07 1 1.09 1 down 3 EUR USD 3 1 1.05 1 1.09 up',
  pair_count: 3,
  alerts:
    '1 a1 u1 threshold 1.08 either every 2 a3 u1 threshold 0.93 down once 1 a2 u2 threshold 1.0825 up every 3 a4 u2 change 3 either every',
  alert_count: 4,
};

const rule = { kind: 'threshold', alertDirection: 'either', repeat: 'every' } as const;

describe('readCrossedAlerts', () => {
  it('gives each alert its pair, rule, direction and exact ratios, in the statement order', () => {
    expect(readCrossedAlerts(row)).toEqual([
      {
        alertId: 'a1',
        userId: 'u1',
        base: 'EUR',
        quote: 'USD',
        ...rule,
        threshold: '1.08',
        direction: 'up',
        previousRatio: '1.07',
        currentRatio: '1.09',
      },
      {
        alertId: 'a3',
        userId: 'u1',
        base: 'USD',
        quote: 'EUR',
        ...rule,
        threshold: '0.93',
        alertDirection: 'down',
        repeat: 'once',
        direction: 'down',
        previousRatio: '0.9345794392523364486',
        currentRatio: '0.91743119266055045872',
      },
      {
        alertId: 'a2',
        userId: 'u2',
        base: 'EUR',
        quote: 'USD',
        ...rule,
        threshold: '1.0825',
        alertDirection: 'up',
        direction: 'up',
        previousRatio: '1.07',
        currentRatio: '1.09',
      },
      {
        alertId: 'a4',
        userId: 'u2',
        base: 'EUR',
        quote: 'USD',
        ...rule,
        kind: 'change',
        percent: '3',
        runs: 3,
        direction: 'up',
        previousRatio: '1.05',
        currentRatio: '1.09',
      },
    ]);
  });

  it('gives thresholds in canonical form, also from a read model built before they were', () => {
    const alerts = '1 a1 u1 threshold 0001.080 either every';
    expect(readCrossedAlerts({ ...row, alerts, alert_count: 1 }).map((a) => a.threshold)).toEqual(['1.080']);
  });

  it('reads a run that moved no pair, or triggered no alert, as nothing triggered', () => {
    expect(readCrossedAlerts({ pairs: null, pair_count: 0, alerts: null, alert_count: 0 })).toEqual([]);
    expect(readCrossedAlerts({ pairs: row.pairs, pair_count: 3, alerts: null, alert_count: 0 })).toEqual([]);
  });

  it('fails rather than shift fields when a value holds a space or a group is missing', () => {
    expect(() => readCrossedAlerts({ ...row, alerts: '1 a1 u 1 threshold 1.08 either every', alert_count: 1 })).toThrow(
      /8 tokens for 1 items/,
    );
    expect(() => readCrossedAlerts({ ...row, pairs: row.pairs.replace('EUR USD', 'EUR  USD') })).toThrow(
      /moved groups/,
    );
    expect(() => readCrossedAlerts({ ...row, alerts: '4 a1 u1 threshold 1.08 either every', alert_count: 1 })).toThrow(
      /no moved group 4/,
    );
  });
});
