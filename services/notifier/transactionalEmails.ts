import { subjects, type EventOf, type Namespace } from '../../events/index.ts';
import type { Mailer } from '../../platform/mailer.ts';
import { linkToken } from '../../platform/tokens.ts';
import { accountHistory, erasedAfter, registrationBefore } from './accountHistory.ts';
import { claimEmail, recordSent, type ClaimDeps } from './emailClaims.ts';
import { messageIdFor, passwordResetEmail, verificationEmail, type Email, type EmailKind } from './emails.ts';

export type TransactionalDeps = ClaimDeps & {
  ns: Namespace;
  mailer: Mailer;
  linkSecret: Buffer;
  publicUrl: string;
  mailDomain: string;
};

type LinkEvent = EventOf<'RegistrationRequested'> | EventOf<'VerificationReissued'> | EventOf<'PasswordResetRequested'>;

/**
 * Send the email a link event (at `seq` in the log) asks for, once: on the email's own subject this instance claims it,
 * sends it and records EmailSent (emailClaims.ts). A link past its expiry is not sent at all, nor one whose account was
 * erased since: the account's own subject says so, read before the claim (the log, not a read model that may lag).
 */
export async function sendLinkEmail(
  deps: TransactionalDeps,
  event: LinkEvent,
  seq: number,
): Promise<'sent' | 'already-sent' | 'expired' | 'erased' | 'no-recipient' | { busyUntil: string }> {
  const { userId, tokenNonce, expiresAt } = event.data;
  if (Date.parse(expiresAt) <= deps.now().getTime()) return 'expired';
  const history = await accountHistory(deps, userId);
  if (erasedAfter(history, seq)) return 'erased';
  const purpose = event.type === 'PasswordResetRequested' ? 'reset' : 'verify';
  const kind: EmailKind = purpose === 'reset' ? 'password-reset' : 'verification';
  const reference = `${purpose}-${userId}-${tokenNonce}`;
  const subject = subjects.email(deps.ns, reference);
  const meta = { occurredAt: deps.now().toISOString(), correlationId: reference, causationId: reference };

  const recipient =
    event.type === 'RegistrationRequested'
      ? { username: event.data.username, email: event.data.email }
      : registrationBefore(history, seq);
  if (!recipient) return 'no-recipient';
  const claim = await claimEmail(deps, subject, { userId, kind, reference }, { msgId: `claim-${reference}`, meta });
  if (claim.outcome === 'sent') return 'already-sent';
  if (claim.outcome === 'busy') return { busyUntil: claim.until };
  const token = linkToken(deps.linkSecret, purpose, userId, tokenNonce);
  const link = `${deps.publicUrl}/${purpose === 'reset' ? 'password/reset' : 'verify'}?token=${encodeURIComponent(token)}`;
  const email: Email =
    purpose === 'reset'
      ? passwordResetEmail({ username: recipient.username, link })
      : verificationEmail({ username: recipient.username, link });
  const messageId = messageIdFor(kind, `${userId}.${tokenNonce}`, deps.mailDomain);
  await deps.mailer.send({
    to: recipient.email,
    subject: email.subject,
    text: email.text,
    html: email.html,
    headers: email.headers,
    messageId,
  });
  await recordSent(
    deps,
    subject,
    { type: 'EmailSent', data: { userId, kind, messageId, reference } },
    { after: claim, msgId: `sent-${reference}`, meta },
  );
  return 'sent';
}
