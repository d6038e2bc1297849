import { describe, expect, it } from 'vitest';
import { asOfFromUnixSeconds } from './asOf.ts';
import { collectRates, MAX_RATE_LENGTH, plainDecimal } from './decimalRates.ts';
import { parseLosslessJson } from './providerResponse.ts';

const rates = (json: string) => parseLosslessJson(json) as Record<string, unknown>;

describe('plainDecimal', () => {
  it.each([
    ['1.0825', '1.0825'],
    ['151.123456789012345', '151.123456789012345'],
    ['0.1', '0.1'],
    ['1.0', '1.0'],
    ['150', '150'],
    ['1e-7', '0.0000001'],
    ['1E-7', '0.0000001'],
    ['1.5e+3', '1500'],
    ['1.5E3', '1500'],
    ['1.23e2', '123'],
    ['1.2345e2', '123.45'],
    ['0.5e1', '5'],
    ['12.5e-1', '1.25'],
    ['0e0', '0'],
    ['-2.5e-3', '-0.0025'],
  ])('%s → %s', (literal, expected) => {
    expect(plainDecimal(literal)).toBe(expected);
  });

  it.each(['abc', '', '1.', '.5', '1e', '1e400', 'NaN'])('refuses %j', (literal) => {
    expect(plainDecimal(literal)).toBeUndefined();
  });
});

describe('collectRates', () => {
  it('keeps the digits a float would mangle', () => {
    const json = '{"JPY":151.123456789012345,"USD":1.0825,"GBP":0.1,"BTC":1e-7}';
    expect(JSON.parse(json).JPY.toString()).not.toBe('151.123456789012345'); // the trap this avoids
    expect(collectRates(rates(json), 'EUR')).toEqual({
      rates: { JPY: '151.123456789012345', USD: '1.0825', GBP: '0.1', BTC: '0.0000001', EUR: '1' },
      dropped: [],
    });
  });

  it('drops non-positive, non-numeric and non-currency entries, saying why', () => {
    const { rates: kept, dropped } = collectRates(
      rates('{"USD":1.08,"XXX":-1,"ZZZ":0,"ABC":"1.2","NUL":null,"usd":1.1,"HUGE":1,"TOO":1e999}'),
      'EUR',
    );
    expect(kept).toEqual({ USD: '1.08', EUR: '1' });
    expect(dropped).toEqual([
      { key: 'XXX', value: '-1', reason: 'not positive' },
      { key: 'ZZZ', value: '0', reason: 'not positive' },
      { key: 'ABC', value: '"1.2"', reason: 'not a number' },
      { key: 'NUL', value: 'null', reason: 'not a number' },
      { key: 'usd', value: '1.1', reason: 'not a three-letter currency code' },
      { key: 'HUGE', value: '1', reason: 'not a three-letter currency code' },
      { key: 'TOO', value: '1e999', reason: 'not a usable number' },
    ]);
  });

  it('drops a rate longer than 48 characters in plain digits, however it was written, and logs it cut short', () => {
    const longest = `0.${'0'.repeat(29)}12345678901234567`;
    expect(longest).toHaveLength(MAX_RATE_LENGTH);
    const huge = `1${'0'.repeat(60_000)}`;
    const { rates: kept, dropped } = collectRates(
      rates(`{"USD":${longest},"JPY":1.2e-30,"AAA":${huge},"BBB":1e-60,"CCC":1e60,"DDD":0.${'0'.repeat(60_000)}1}`),
      'EUR',
    );
    expect(kept).toEqual({ USD: longest, JPY: '0.0000000000000000000000000000012', EUR: '1' });
    expect(dropped.map((d) => [d.key, d.reason])).toEqual(
      ['AAA', 'BBB', 'CCC', 'DDD'].map((k) => [k, 'more than 48 characters in plain digits']),
    );
    expect(dropped[0]!.value).toBe(`1${'0'.repeat(39)}…`);
  });

  it('sets the provider base to 1 whether or not the provider lists it', () => {
    expect(collectRates(rates('{"USD":1.0,"EUR":0.92}'), 'USD').rates).toEqual({ USD: '1', EUR: '0.92' });
    expect(collectRates(rates('{"USD":1.08}'), 'EUR').rates).toEqual({ USD: '1.08', EUR: '1' });
  });

  it('maps provider keys to currencies', () => {
    const { rates: kept, dropped } = collectRates(rates('{"USDEUR":0.92,"EURUSD":1.08}'), 'USD', (k) =>
      k.startsWith('USD') ? k.slice(3) : undefined,
    );
    expect(kept).toEqual({ EUR: '0.92', USD: '1' });
    expect(dropped.map((d) => d.key)).toEqual(['EURUSD']);
  });
});

describe('asOfFromUnixSeconds', () => {
  it('is a subject-safe UTC date-time', () => {
    expect(asOfFromUnixSeconds(1793635200)).toBe('2026-11-02T160000Z');
    expect(asOfFromUnixSeconds(1793664151)).toBe('2026-11-03T000231Z');
  });
});
