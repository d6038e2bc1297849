import { z } from 'zod';
import { CurrencyCode, PositiveDecimal } from './decimal.ts';
import { IsoTimestamp } from './ids.ts';

export const RatesProvider = z.enum(['frankfurter', 'exchangerate-host', 'open-er-api']);
export type RatesProvider = z.infer<typeof RatesProvider>;

// One subject per provider and publication: a second fetch of the same data is the same run.
export const ratesEvents = {
  /** The scheduler fetched one publication of rates: one run of the crossing rule. */
  RatesFetched: z.object({
    provider: RatesProvider,
    base: CurrencyCode,
    asOf: z.string().regex(/^[0-9A-Za-z-]{4,40}$/, 'must be a subject-safe publication id'),
    fetchedAt: IsoTimestamp,
    rates: z.record(CurrencyCode, PositiveDecimal),
  }),
} as const;

/**
 * The rates date of a run: the calendar day its publication is of, the first ten characters of `asOf` (frankfurter's
 * date, or the UTC date of the other providers' publication time). Undefined for an asOf that starts with no date.
 */
export function ratesDateOf(asOf: string): string | undefined {
  return /^\d{4}-\d{2}-\d{2}/.test(asOf) ? asOf.slice(0, 10) : undefined;
}
