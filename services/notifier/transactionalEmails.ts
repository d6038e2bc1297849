import { linkEmailKey, subjects, type EventOf, type Namespace } from '../../events/index.ts';
import type { Mailer } from '../../platform/mailer.ts';
import { ERASED, type PersonalData } from '../../platform/personalData/index.ts';
import { linkToken } from '../../platform/tokens.ts';
import { claimEmail, recordSent, type ClaimDeps } from './emailClaims.ts';
import { messageIdFor, passwordResetEmail, verificationEmail, type Email, type EmailKind } from './emails.ts';

export type TransactionalDeps = ClaimDeps & {
  ns: Namespace;
  mailer: Mailer;
  linkSecret: Buffer;
  publicUrl: string;
  mailDomain: string;
  /** Opens the recipient's sealed username and address (platform/personalData). */
  personal: PersonalData;
};

type LinkEvent = EventOf<'RegistrationRequested'> | EventOf<'VerificationReissued'> | EventOf<'PasswordResetRequested'>;

type Recipient = { username: string; email: string };

/** Who the user is, from their own subject's history (the registration carries username and email). */
async function recipientOf(deps: TransactionalDeps, userId: string): Promise<Recipient | undefined> {
  const { history } = await deps.store.load(subjects.user(deps.ns, userId));
  const registration = history
    .flatMap((h) => h.events)
    .filter((e): e is EventOf<'RegistrationRequested'> => e.type === 'RegistrationRequested')
    .at(-1);
  return registration ? { username: registration.data.username, email: registration.data.email } : undefined;
}

/** The recipient in plain text; undefined once they were erased (their key is gone): nothing is sent to them. */
export async function revealRecipient(
  personal: PersonalData,
  userId: string,
  sealed: Recipient,
): Promise<Recipient | undefined> {
  const [username, email] = await Promise.all([
    personal.reveal(userId, 'username', sealed.username),
    personal.reveal(userId, 'email', sealed.email),
  ]);
  return email === ERASED || username === ERASED ? undefined : { username, email };
}

/**
 * Send the email a link event asks for, once: on the email's own subject this instance claims it, sends it and
 * records EmailSent (emailClaims.ts). A link past its expiry is not sent at all.
 */
export async function sendLinkEmail(
  deps: TransactionalDeps,
  event: LinkEvent,
): Promise<'sent' | 'already-sent' | 'expired' | 'no-recipient' | { busyUntil: string }> {
  const { userId, tokenNonce, expiresAt } = event.data;
  if (Date.parse(expiresAt) <= deps.now().getTime()) return 'expired';
  const purpose = event.type === 'PasswordResetRequested' ? 'reset' : 'verify';
  const kind: EmailKind = purpose === 'reset' ? 'password-reset' : 'verification';
  const reference = linkEmailKey(purpose, userId, tokenNonce);
  const subject = subjects.email(deps.ns, reference);
  const meta = { occurredAt: deps.now().toISOString(), correlationId: reference, causationId: reference };

  const sealed =
    event.type === 'RegistrationRequested'
      ? { username: event.data.username, email: event.data.email }
      : await recipientOf(deps, userId);
  const recipient = sealed && (await revealRecipient(deps.personal, userId, sealed));
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
