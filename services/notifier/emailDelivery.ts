import { event, type EnvelopeMeta, type EventOf } from '../../events/index.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Mailer } from '../../platform/mailer.ts';
import { smtpFailure } from '../../platform/smtpFailure.ts';
import { recordEmailOutcome, type Claim, type ClaimDeps, type EmailRef } from './emailClaims.ts';
import type { Email } from './emails.ts';
import { emailRetryPolicy, retryAfterFailure, type RetryPolicy } from './retryPolicy.ts';

export type MailDeps = ClaimDeps & {
  mailer: Mailer;
  /** How an email that failed for now is tried again; emailRetryPolicy unless a test shortens it. */
  mailRetry?: RetryPolicy;
  random?: () => number;
  logger?: Logger;
};

/** What came of one attempt: the email went, it is tried again from `until`, or it never will go (`detail` says why). */
export type Delivered = 'sent' | { deferredUntil: string } | { undeliverable: string; permanent: boolean };

export type ClaimedEmail = EmailRef & {
  /** The address, in plain text for the mail server and sealed as the log holds it (for EmailUndeliverable). */
  to: { plain: string; sealed: string };
  messageId: string;
  content: Email;
  /** The message id (Nats-Msg-Id) EmailSent is recorded under. */
  sentMsgId: string;
  meta: EnvelopeMeta;
};

const deferralsOf = (events: readonly { type: string }[]) =>
  events.filter((e): e is EventOf<'EmailDeferred'> => e.type === 'EmailDeferred').map((e) => e.data);

/**
 * Send one email this instance has claimed (emailClaims.ts) and record, after the claim, what came of it: EmailSent;
 * EmailDeferred when the mail server could not take it for now (tried again from its `retryAt`, which the email's
 * subject keeps: no instance claims it before then); EmailUndeliverable when it never will (a permanent refusal, or
 * failures for longer than the policy's bound). The same rules as webhooks' (webhooks/retryPolicy.ts).
 */
export async function sendClaimed(
  deps: MailDeps,
  subject: string,
  claim: Extract<Claim, { outcome: 'send' }>,
  email: ClaimedEmail,
): Promise<Delivered> {
  const { userId, kind, reference } = email;
  const record = { after: claim, meta: email.meta };
  const deferrals = deferralsOf(claim.events);
  const attempt = deferrals.length + 1;
  const now = deps.now();
  const firstAttemptAt = deferrals[0]?.firstAttemptAt ?? now.toISOString();
  try {
    await deps.mailer.send({ to: email.to.plain, ...email.content, messageId: email.messageId });
  } catch (error) {
    const failure = smtpFailure(error);
    const code = failure.code === undefined ? {} : { code: failure.code };
    const retry = failure.permanent
      ? 'expired'
      : retryAfterFailure(
          attempt,
          { now: deps.now(), firstAttemptAt: new Date(firstAttemptAt) },
          deps.mailRetry ?? emailRetryPolicy,
          deps.random ?? Math.random,
        );
    // The email by its kind and reference, never its address; the failure by its codes (platform/smtpFailure.ts).
    const said = { userId, kind, reference, attempt, detail: failure.detail };
    if (retry !== 'expired') {
      await recordEmailOutcome(
        deps,
        subject,
        event('EmailDeferred', {
          userId,
          kind,
          reference,
          attempt,
          ...code,
          detail: failure.detail,
          retryAt: retry.retryAt,
          firstAttemptAt,
        }),
        { ...record, msgId: `deferred-${attempt}-${reference}` },
      );
      deps.logger?.warn(
        { ...said, retryAt: retry.retryAt },
        'the mail server did not take an email; it is tried again later',
      );
      return { deferredUntil: retry.retryAt };
    }
    await recordEmailOutcome(
      deps,
      subject,
      event('EmailUndeliverable', {
        userId,
        kind,
        reference,
        attempt,
        permanent: failure.permanent,
        ...code,
        detail: failure.detail,
        email: email.to.sealed,
        firstAttemptAt,
      }),
      { ...record, msgId: `undeliverable-${reference}` },
    );
    deps.logger?.error(
      { ...said, permanent: failure.permanent },
      failure.permanent ? 'the mail server refused an email for good' : 'an email kept failing for 24 hours: given up',
    );
    return { undeliverable: failure.detail, permanent: failure.permanent };
  }
  await recordEmailOutcome(deps, subject, event('EmailSent', { userId, kind, messageId: email.messageId, reference }), {
    ...record,
    msgId: email.sentMsgId,
  });
  return 'sent';
}
