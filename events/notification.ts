import { z } from 'zod';
import { AggregateId, IsoTimestamp } from './ids.ts';
import { AlertDirection, AlertKind, AlertRepeat, ChangeRuns } from './alert.ts';
import { CurrencyCode, Percent, PositiveDecimal, Threshold } from './decimal.ts';

export const Direction = z.enum(['up', 'down']);
/**
 * What an email is: a link email (verification, password reset, the link to confirm a new address), the notice to the
 * previous address that the address changed, a digest, the confirmation that an account was erased, or the notice that
 * a webhook channel was paused because its deliveries kept failing. Widening it
 * keeps every recorded payload valid.
 */
export const EmailKind = z.enum([
  'verification',
  'password-reset',
  'email-change',
  'email-changed',
  'alert-digest',
  'account-erased',
  'channel-paused',
]);

// Notifier outcomes: a trigger lives on its alert's subject, an email on the recipient's mail subject.
export const notificationEvents = {
  /**
   * A run triggered an alert (docs/design.md §4, §4b): moved its pair across its threshold, or by its percent over its
   * runs. `direction` is the way the ratio went; the alert's rule rides along so a digest can name it (absent in
   * triggers recorded before kinds: a threshold, either way, every time).
   */
  AlertTriggered: z.object({
    alertId: AggregateId,
    userId: AggregateId,
    runSeq: z.number().int().positive(),
    base: CurrencyCode,
    quote: CurrencyCode,
    kind: AlertKind.optional(),
    threshold: Threshold.optional(),
    percent: Percent.optional(),
    runs: ChangeRuns.optional(),
    alertDirection: AlertDirection.optional(),
    repeat: AlertRepeat.optional(),
    previousRatio: PositiveDecimal,
    currentRatio: PositiveDecimal,
    direction: Direction,
  }),
  /**
   * A notifier instance took on sending one email (a digest, a link email) until `until`: another instance that
   * meets the claim before then leaves that email alone and looks again later; after it, the claim has lapsed
   * (its holder died) and may be taken over.
   */
  EmailClaimed: z.object({
    userId: AggregateId,
    kind: EmailKind,
    reference: z.string().min(1),
    claimedBy: z.string().min(1).max(64),
    until: IsoTimestamp,
  }),
  /** An email left for the SMTP server, accepted by it. */
  EmailSent: z.object({
    userId: AggregateId,
    kind: EmailKind,
    messageId: z.string().min(3),
    reference: z.string().min(1),
  }),
} as const;
