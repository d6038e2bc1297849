import { z } from 'zod';

// Plain digits with an optional fractional part: no sign, no exponent, no separators (DESIGN §4).
const PLAIN_DECIMAL = /^\d+(\.\d+)?$/;

/** Number of significant digits in a plain decimal string counting every digit after the leading zeros ("0.00120" → 3, "150" → 3). */
export function significantDigits(value: string): number {
  return value.replace('.', '').replace(/^0+/, '').length || 1;
}

function isPositive(value: string): boolean {
  return /[1-9]/.test(value);
}

/** A non-negative decimal as a string, e.g. a provider rate. Never a binary float. */
export const DecimalString = z.string().regex(PLAIN_DECIMAL, 'must be a decimal number in plain digits');

/** A rate or ratio: a positive decimal string. */
export const PositiveDecimal = DecimalString.refine(isPositive, 'must be greater than zero');

/** An alert threshold: positive, plain digits, at most 18 significant digits (DESIGN §4). */
export const Threshold = z
  .string()
  .trim()
  .min(1, 'Enter a threshold')
  .regex(PLAIN_DECIMAL, 'Use plain digits with an optional decimal point, like 1.0825')
  .refine(isPositive, 'The threshold must be greater than zero')
  .refine((v) => significantDigits(v) <= 18, 'Use at most 18 significant digits');

/** Currency codes are three capital letters (ISO 4217 style; BTC and friends fit too). */
export const CurrencyCode = z.string().regex(/^[A-Z]{3}$/, 'must be a three-letter currency code');
