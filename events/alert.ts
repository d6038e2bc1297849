import { z } from 'zod';
import { AggregateId } from './ids.ts';
import { CurrencyCode, Threshold } from './decimal.ts';

// The alert aggregate: one subject per alert.
export const alertEvents = {
  /** A user set an alert on BASE/QUOTE crossing a threshold. */
  AlertSet: z.object({
    alertId: AggregateId,
    userId: AggregateId,
    base: CurrencyCode,
    quote: CurrencyCode,
    threshold: Threshold,
  }),
  /** The owner deleted the alert; it never triggers again. */
  AlertDeleted: z.object({ alertId: AggregateId, userId: AggregateId }),
} as const;
