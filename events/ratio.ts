// Ratio maths shared by the notifier (crossing rule) and the web (showing current ratios): pure, exact.
import BigDecimal from 'big.js';

/** One run's rates: currency → rate against the provider's own base, as decimal strings. */
export type Rates = Readonly<Record<string, string>>;

/** Significant digits kept in a ratio recorded in events and compared across code paths (docs/design.md §4 asks for ≥ 6). */
export const RATIO_SIGNIFICANT_DIGITS = 20;

// A private constructor: strict (strings only, never binary floats) and rounding half-up; DP is set per division.
const Decimal = BigDecimal();
Decimal.strict = true;
Decimal.RM = BigDecimal.roundHalfUp;

function decimal(value: string, what: string): BigDecimal {
  try {
    return new Decimal(value);
  } catch {
    throw new Error(`${what} "${value}" is not a decimal number`);
  }
}

function positive(value: string, what: string): BigDecimal {
  const d = decimal(value, what);
  if (d.lte(new Decimal('0'))) throw new Error(`${what} "${value}" must be greater than zero`);
  return d;
}

/** Decimal places that give `significant` significant digits to a number whose leading digit sits at 10^exponent. */
function placesFor(significant: number, exponent: number): number {
  return Math.max(0, significant - 1 - exponent);
}

/** `numerator / denominator` rounded once (half-up) to `significant` significant digits, integer digits always kept. */
function divideToSignificant(numerator: BigDecimal, denominator: BigDecimal, significant: number): BigDecimal {
  // The quotient's leading digit is at 10^(en − ed), or one lower when the numerator's digits are the smaller.
  const shifted = numerator.times(new Decimal(`1e${denominator.e - numerator.e}`));
  const exponent = numerator.e - denominator.e - (shifted.lt(denominator) ? 1 : 0);
  Decimal.DP = placesFor(significant, exponent);
  return numerator.div(denominator);
}

/** QUOTE per 1 BASE from the two rates of one run: rq / rb, in plain digits with 20 significant digits. */
export function ratioOf(baseRate: string, quoteRate: string): string {
  const rb = positive(baseRate, 'base rate');
  const rq = positive(quoteRate, 'quote rate');
  return divideToSignificant(rq, rb, RATIO_SIGNIFICANT_DIGITS).toFixed();
}

/** The ratio of pair BASE/QUOTE in one run: rate[QUOTE] / rate[BASE] (EUR/USD 1.08 means 1 EUR = 1.08 USD). */
export function ratio(rates: Rates, base: string, quote: string): string {
  const rb = rates[base];
  const rq = rates[quote];
  if (rb === undefined) throw new Error(`no rate for ${base}`);
  if (rq === undefined) throw new Error(`no rate for ${quote}`);
  return ratioOf(rb, rq);
}

/** A provider's rates with its own base currency added at rate 1 (providers leave it out of the response). */
export function withProviderBase(base: string, rates: Rates): Rates {
  return { ...rates, [base]: rates[base] ?? '1' };
}

/** Sign of `value − rq/rb`, computed exactly as `value·rb − rq` (rb > 0): no division, no binary floats. */
export function compareToRatio(value: string, baseRate: string, quoteRate: string): -1 | 0 | 1 {
  const rb = positive(baseRate, 'base rate');
  const rq = positive(quoteRate, 'quote rate');
  return decimal(value, 'value').times(rb).cmp(rq);
}

/** `value ≤ rq/rb`, exactly. */
export function isAtMostRatio(value: string, baseRate: string, quoteRate: string): boolean {
  return compareToRatio(value, baseRate, quoteRate) <= 0;
}

/** `value ≥ rq/rb`, exactly. */
export function isAtLeastRatio(value: string, baseRate: string, quoteRate: string): boolean {
  return compareToRatio(value, baseRate, quoteRate) >= 0;
}

/**
 * A ratio for people: rounded half-up to `significant` significant digits (never fewer integer digits), plain
 * digits, no exponent. With `distinctFrom` (a threshold), digits are added until the shown value sits on the same
 * side of it as the exact one, so "was 1.0799999, crossed 1.08" never reads "was 1.08".
 */
/** The ratios `percent` % below and above `previous`: the band a change alert's ratio stays inside until it triggers. */
export function changeBand(previous: string, percent: string): { from: string; to: string } {
  const p = new Decimal(previous);
  const by = p.times(percent).div('100');
  return { from: p.minus(by).toFixed(), to: p.plus(by).toFixed() };
}

export function formatRatio(value: string, significant = 6, distinctFrom?: string): string {
  const exact = decimal(value, 'ratio');
  const show = (digits: number) => exact.round(placesFor(digits, exact.e), BigDecimal.roundHalfUp);
  if (distinctFrom === undefined) return show(significant).toFixed();
  const other = decimal(distinctFrom, 'threshold');
  const side = exact.cmp(other);
  for (let digits = significant; digits < exact.c.length; digits++) {
    const shown = show(digits);
    if (shown.cmp(other) === side) return shown.toFixed();
  }
  return exact.toFixed();
}

/**
 * How a pair moved between two runs if by at least `percent` % (docs/design.md §4b): with p = pq/pb before and
 * c = cq/cb now, |c − p|·100 ≥ percent·p, evaluated as |cq·pb − pq·cb|·100 ≥ percent·pq·cb (pb, cb > 0): exact, no
 * division. 'up' when c > p, 'down' when c < p; null when it moved less, or not at all.
 */
export function changedByAtLeast(
  percent: string,
  previous: { baseRate: string; quoteRate: string },
  current: { baseRate: string; quoteRate: string },
): 'up' | 'down' | null {
  const pb = positive(previous.baseRate, 'base rate');
  const pq = positive(previous.quoteRate, 'quote rate');
  const cb = positive(current.baseRate, 'base rate');
  const cq = positive(current.quoteRate, 'quote rate');
  const difference = cq.times(pb).minus(pq.times(cb));
  const sign = difference.cmp(new Decimal('0'));
  if (sign === 0) return null;
  const reached = difference.abs().times(new Decimal('100')).gte(decimal(percent, 'percent').times(pq).times(cb));
  return reached ? (sign > 0 ? 'up' : 'down') : null;
}

/** By how much a ratio moved from `previous` to `current`, in percent of `previous`, unsigned, for people: 3 significant digits. */
export function changePercent(previous: string, current: string, significant = 3): string {
  const p = positive(previous, 'ratio');
  const moved = decimal(current, 'ratio').minus(p).abs().times(new Decimal('100'));
  if (moved.eq(new Decimal('0'))) return '0';
  return divideToSignificant(moved, p, significant).toFixed();
}
