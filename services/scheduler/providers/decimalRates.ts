import { LosslessNumber } from 'lossless-json';

// Pure: turns the numbers of a provider's JSON into exact decimal strings.

/** A number written with an exponent this large is no exchange rate; refuse it rather than write 1000 zeros. */
const MAX_EXPONENT = 100;

/**
 * The exact value of a JSON number literal in plain digits: "1.0825" stays "1.0825", "1e-7" becomes
 * "0.0000001", "1.5E+3" becomes "1500". Undefined when it is not a JSON number literal.
 */
export function plainDecimal(literal: string): string | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (!m) return undefined;
  const [, sign = '', int = '', frac = '', exp] = m;
  if (exp === undefined) return literal;
  const exponent = Number(exp);
  if (Math.abs(exponent) > MAX_EXPONENT) return undefined;
  const digits = int + frac;
  const point = int.length + exponent;
  let whole: string;
  let fraction: string;
  if (point <= 0) {
    whole = '0';
    fraction = '0'.repeat(-point) + digits;
  } else if (point >= digits.length) {
    whole = digits + '0'.repeat(point - digits.length);
    fraction = '';
  } else {
    whole = digits.slice(0, point);
    fraction = digits.slice(point);
  }
  whole = whole.replace(/^0+(?=\d)/, '');
  fraction = fraction.replace(/0+$/, '');
  return `${sign}${whole}${fraction ? `.${fraction}` : ''}`;
}

/**
 * Longest rate kept, in plain digits: a double's 17 significant digits from 10^-30 to 10^30 fit, and no currency
 * quotes beyond. Bounds what a run, its ratios and the emails that show them can weigh.
 */
export const MAX_RATE_LENGTH = 48;

export type DroppedRate = { key: string; value: string; reason: string };
export type CollectedRates = { rates: Record<string, string>; dropped: DroppedRate[] };

const CURRENCY_CODE = /^[A-Z]{3}$/;

/**
 * Keeps each entry that is a currency code with a positive number, as a plain decimal string, and lists
 * the others with the reason. The provider's own base gets "1": its responses may omit it (docs/design.md §4).
 * `currencyOf` maps a provider key to a currency code (e.g. "USDEUR" → "EUR"); undefined = not a currency.
 */
export function collectRates(
  entries: Record<string, unknown>,
  base: string,
  currencyOf: (key: string) => string | undefined = (key) => key,
): CollectedRates {
  const rates: Record<string, string> = {};
  const dropped: DroppedRate[] = [];
  for (const [key, value] of Object.entries(entries)) {
    const drop = (reason: string) => dropped.push({ key, value: describeValue(value), reason });
    const currency = currencyOf(key);
    if (currency === undefined || !CURRENCY_CODE.test(currency)) {
      drop('not a three-letter currency code');
      continue;
    }
    if (!(value instanceof LosslessNumber)) {
      drop('not a number');
      continue;
    }
    const decimal = plainDecimal(value.value);
    if (decimal === undefined) {
      drop('not a usable number');
      continue;
    }
    if (decimal.startsWith('-') || !/[1-9]/.test(decimal)) {
      drop('not positive');
      continue;
    }
    if (decimal.length > MAX_RATE_LENGTH) {
      drop(`more than ${MAX_RATE_LENGTH} characters in plain digits`);
      continue;
    }
    rates[currency] = decimal;
  }
  rates[base] = '1';
  return { rates, dropped };
}

/** A dropped value for the log, cut short: a provider may send anything, of any length. */
function describeValue(value: unknown): string {
  const text = value instanceof LosslessNumber ? value.value : (JSON.stringify(value) ?? String(value));
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
