import { z } from 'zod';

// Plain digits with an optional fractional part: no sign, no exponent, no separators (docs/design.md §4).
const PLAIN_DECIMAL = /^\d+(\.\d+)?$/;

/** Most characters in a threshold, checked before anything else reads it: room for 0.<20 zeros><18 digits>. */
export const MAX_THRESHOLD_LENGTH = 40;

/** Number of significant digits in a plain decimal string counting every digit after the leading zeros ("0.00120" → 3, "150" → 3). */
export function significantDigits(value: string): number {
  return value.replace('.', '').replace(/^0+/, '').length || 1;
}

function isPositive(value: string): boolean {
  return /[1-9]/.test(value);
}

/**
 * A plain decimal in canonical form: the integer part loses its leading zeros (a single 0 stays before the point),
 * the fractional part stays as typed ("001.5" → "1.5", "0.50" → "0.50", "150" → "150"). Same value, never longer.
 */
export function canonicalDecimal(value: string): string {
  return value.replace(/^0+(?=\d)/, '');
}

/** A non-negative decimal as a string, e.g. a provider rate. Never a binary float. */
export const DecimalString = z.string().regex(PLAIN_DECIMAL, 'must be a decimal number in plain digits');

/** A rate or ratio: a positive decimal string. */
export const PositiveDecimal = DecimalString.refine(isPositive, 'must be greater than zero');

/**
 * The rules every threshold (and a change alert's percent) meets, however it arrived: positive, plain digits, at most
 * 18 significant digits (docs/design.md §4). `what` and `example` name it in the messages.
 */
const positiveDigits = (value: z.ZodString, what: string, example: string) =>
  value
    .regex(PLAIN_DECIMAL, `Use plain digits with an optional decimal point, like ${example}`)
    .refine(isPositive, `The ${what} must be greater than zero`)
    .refine((v) => significantDigits(v) <= 18, 'Use at most 18 significant digits');

const tooLongFor = (example: string) => ({
  abort: true,
  message: `Use at most ${MAX_THRESHOLD_LENGTH} characters, like ${example}`,
});

/** A decimal as commands and events carry it: canonical (see canonicalDecimal) and at most 40 characters. */
const canonicalPositive = (what: string, example: string) =>
  positiveDigits(z.string().max(MAX_THRESHOLD_LENGTH, tooLongFor(example)), what, example).refine(
    (v) => canonicalDecimal(v) === v,
    `Write the ${what} without leading zeros, like 1.5 rather than 001.5`,
  );

/** A decimal as a person typed it: at most 40 characters before anything else, then trimmed, checked and made canonical. */
const typedPositive = (what: string, example: string) =>
  positiveDigits(
    z.string().max(MAX_THRESHOLD_LENGTH, tooLongFor(example)).trim().min(1, `Enter a ${what}`),
    what,
    example,
  ).transform(canonicalDecimal);

/** An alert threshold as commands and events carry it: canonical (see canonicalDecimal) and at most 40 characters. */
export const Threshold = canonicalPositive('threshold', '1.0825');

/** A threshold as a person typed it: at most 40 characters before anything else, then trimmed, checked and made canonical. */
export const TypedThreshold = typedPositive('threshold', '1.0825');

/** A change alert's percent (docs/design.md §4b): the same digits rule as a threshold. */
export const Percent = canonicalPositive('percent', '1.5');

/** A percent as a person typed it. */
export const TypedPercent = typedPositive('percent', '1.5');

const THREE_CAPITALS = /^[A-Z]{3}$/;

/** Currency codes are three capital letters (ISO 4217 style; BTC and friends fit too). */
export const CurrencyCode = z.string().regex(THREE_CAPITALS, 'must be a three-letter currency code');

/** A currency as a form sends it: trimmed and upper-cased, then a currency code. */
export const TypedCurrencyCode = z
  .string()
  .trim()
  .toUpperCase()
  .min(1, 'Choose a currency')
  .regex(THREE_CAPITALS, 'Choose a currency from the list');
