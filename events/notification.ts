import { z } from 'zod';
import { AggregateId, Email, IsoTimestamp, Personal } from './ids.ts';
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

/** An SMTP reply code (RFC 5321 §4.2). */
const SmtpCode = z.number().int().min(200).max(599);

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
  /**
   * The mail server could not take the email for now (a 4xx answer, a timeout, a connection that failed): it is tried
   * again from `retryAt` on, with exponential backoff, until 24 h after `firstAttemptAt` (services/notifier/retryPolicy.ts).
   * `detail` names the failure by its codes only (`SMTP 451 4.7.1`, `timeout`): a server's words may hold the address.
   */
  EmailDeferred: z.object({
    userId: AggregateId,
    kind: EmailKind,
    reference: z.string().min(1),
    attempt: z.number().int().positive(),
    code: SmtpCode.optional(),
    detail: z.string().max(200),
    retryAt: IsoTimestamp,
    firstAttemptAt: IsoTimestamp,
  }),
  /**
   * The email will never go: the mail server refused it for good (`permanent`: a 5xx answer about the recipient or the
   * message), or it kept failing for 24 h. `email` is the address it was for, sealed as the log holds it wherever it
   * came from: a permanent refusal of the account's address as it stands pauses the account's alert emails.
   */
  EmailUndeliverable: z.object({
    userId: AggregateId,
    kind: EmailKind,
    reference: z.string().min(1),
    attempt: z.number().int().positive(),
    permanent: z.boolean(),
    code: SmtpCode.optional(),
    detail: z.string().max(200),
    email: Personal(Email),
    firstAttemptAt: IsoTimestamp,
  }),
  /** An email left for the SMTP server, accepted by it. */
  EmailSent: z.object({
    userId: AggregateId,
    kind: EmailKind,
    messageId: z.string().min(3),
    reference: z.string().min(1),
  }),
} as const;
