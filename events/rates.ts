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
