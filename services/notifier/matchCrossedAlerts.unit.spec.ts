import { describe, expect, it } from 'vitest';
import { readCrossedAlerts } from './matchCrossedAlerts.ts';

// The statement's row for two moved pairs (EUR/USD up, USD/EUR down) and three crossed alerts, by user then alert.
const row = {
  pairs: '1 EUR USD 1 1.07 1 1.09 up 2 USD EUR 1.07 1 1.09 1 down',
  pair_count: 2,
  alerts: '1 a1 u1 1.08 2 a3 u1 0.93 1 a2 u2 1.0825',
  alert_count: 3,
};

describe('readCrossedAlerts', () => {
  it('gives each alert its pair, direction and exact ratios, in the statement order', () => {
    expect(readCrossedAlerts(row)).toEqual([
      {
        alertId: 'a1',
        userId: 'u1',
        base: 'EUR',
        quote: 'USD',
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
        threshold: '0.93',
        direction: 'down',
        previousRatio: '0.9345794392523364486',
        currentRatio: '0.91743119266055045872',
      },
      {
        alertId: 'a2',
        userId: 'u2',
        base: 'EUR',
        quote: 'USD',
        threshold: '1.0825',
        direction: 'up',
        previousRatio: '1.07',
        currentRatio: '1.09',
      },
    ]);
  });

  it('gives thresholds in canonical form, also from a read model built before they were', () => {
    expect(readCrossedAlerts({ ...row, alerts: '1 a1 u1 0001.080', alert_count: 1 }).map((a) => a.threshold)).toEqual([
      '1.080',
    ]);
  });

  it('reads a run that moved no pair, or crossed no alert, as nothing crossed', () => {
    expect(readCrossedAlerts({ pairs: null, pair_count: 0, alerts: null, alert_count: 0 })).toEqual([]);
    expect(readCrossedAlerts({ pairs: row.pairs, pair_count: 2, alerts: null, alert_count: 0 })).toEqual([]);
  });

  it('fails rather than shift fields when a value holds a space or a pair is missing', () => {
    expect(() => readCrossedAlerts({ ...row, alerts: '1 a1 u 1 1.08', alert_count: 1 })).toThrow(
      /5 tokens for 1 items/,
    );
    expect(() => readCrossedAlerts({ ...row, pairs: row.pairs.replace('EUR USD', 'EUR  USD') })).toThrow(/moved pairs/);
    expect(() => readCrossedAlerts({ ...row, alerts: '3 a1 u1 1.08', alert_count: 1 })).toThrow(/no moved pair 3/);
  });
});
