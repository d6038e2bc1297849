import { describe, expect, it } from 'vitest';
import { significantDigits } from './decimal.ts';
import {
  changeBand,
  compareToRatio,
  formatRatio,
  isAtLeastRatio,
  isAtMostRatio,
  ratio,
  ratioOf,
  withProviderBase,
} from './ratio.ts';

describe('ratio: QUOTE per 1 BASE', () => {
  const rates = withProviderBase('EUR', { USD: '1.08', JPY: '162.35', GBP: '0.85', BTC: '0.0000161' });

  it.each([
    ['EUR', 'USD', '1.08'],
    ['USD', 'EUR', '0.92592592592592592593'],
    ['GBP', 'JPY', '191'],
    ['JPY', 'GBP', '0.0052356020942408376963'],
    ['BTC', 'JPY', '10083850.931677018634'],
    ['JPY', 'BTC', '0.000000099168463196797043425'],
    ['EUR', 'EUR', '1'],
  ])('%s/%s = %s', (base, quote, expected) => {
    expect(ratio(rates, base, quote)).toBe(expected);
  });

  it('keeps at least 10 significant digits, in plain digits, for tiny and huge ratios', () => {
    for (const [rb, rq] of [
      ['7', '3'],
      ['123456789', '0.000000001'],
      ['0.000000001', '987654321987654321'],
    ] as const) {
      const r = ratioOf(rb, rq);
      expect(r).toMatch(/^\d+(\.\d+)?$/);
      expect(significantDigits(r)).toBeGreaterThanOrEqual(10);
    }
    expect(ratioOf('0.000000001', '987654321987654321')).toBe('987654321987654321000000000');
  });

  it('rounds once, half-up, at the 20th significant digit', () => {
    expect(ratioOf('3', '2')).toBe('0.66666666666666666667');
    expect(ratioOf('1', '0.123456789012345678905')).toBe('0.12345678901234567891');
  });

  it('refuses a missing currency or a zero rate', () => {
    expect(() => ratio(rates, 'EUR', 'CHF')).toThrow(/CHF/);
    expect(() => ratioOf('0', '1')).toThrow(/greater than zero/);
  });

  it('does not overwrite a base the provider did list', () => {
    expect(withProviderBase('USD', { USD: '1', EUR: '0.92' })).toEqual({ USD: '1', EUR: '0.92' });
    expect(withProviderBase('EUR', { USD: '1.08' })).toEqual({ USD: '1.08', EUR: '1' });
  });
});

describe('exact comparison with a ratio: t ≤ rq/rb is t·rb ≤ rq', () => {
  it('is exact where binary floats are not', () => {
    // 0.3 / 0.1 is 2.9999999999999996 in floats; exactly it is 3.
    expect(0.3 / 0.1).toBeLessThan(3);
    expect(compareToRatio('3', '0.1', '0.3')).toBe(0);
    expect(isAtMostRatio('3', '0.1', '0.3')).toBe(true);
    expect(isAtLeastRatio('3', '0.1', '0.3')).toBe(true);
    expect(compareToRatio('3.00000000000000001', '0.1', '0.3')).toBe(1);
    expect(compareToRatio('2.99999999999999999', '0.1', '0.3')).toBe(-1);
  });

  it('compares a threshold against a repeating ratio without rounding it', () => {
    // 2/3 = 0.666…: every finite threshold is strictly on one side.
    expect(compareToRatio('0.66666666666666666667', '3', '2')).toBe(1);
    expect(compareToRatio('0.66666666666666666666', '3', '2')).toBe(-1);
  });
});

describe('formatRatio, for people', () => {
  it.each([
    ['1.0825391', '1.08254'],
    ['1.08', '1.08'],
    ['1234567.89', '1234568'],
    ['0.000012345678', '0.0000123457'],
    ['0.000000099168463196797043425', '0.0000000991685'],
    ['987654321987654321000000000', '987654321987654321000000000'],
  ])('%s → %s', (value, shown) => {
    expect(formatRatio(value)).toBe(shown);
  });

  it('shows more digits when fewer would put the ratio on the other side of the threshold', () => {
    expect(formatRatio('1.0799999', 6)).toBe('1.08');
    expect(formatRatio('1.0799999', 6, '1.08')).toBe('1.0799999');
    expect(formatRatio('1.08000004', 6, '1.08')).toBe('1.08000004');
    expect(formatRatio('1.08', 6, '1.08')).toBe('1.08');
    expect(formatRatio('1.09', 6, '1.08')).toBe('1.09');
  });
});

describe('changeBand: the ratios a change alert stays between', () => {
  it('is the ratio less and more its percent, exactly (no binary floating point)', () => {
    expect(changeBand('0.8699', '2')).toEqual({ from: '0.852502', to: '0.887298' });
    expect(changeBand('1.1', '0.1')).toEqual({ from: '1.0989', to: '1.1011' });
    expect(changeBand('150.25', '12.5')).toEqual({ from: '131.46875', to: '169.03125' });
  });
});
