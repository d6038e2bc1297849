import { subjects, type DomainEvent, type EventOf, type Namespace } from '../../events/index.ts';
import type { EventStore } from '../../platform/eventStore.ts';
import { ConcurrencyError } from '../../platform/eventStore.ts';
import type { Mailer } from '../../platform/mailer.ts';
import { linkToken } from '../../platform/tokens.ts';
import { messageIdFor, passwordResetEmail, verificationEmail, type Email, type EmailKind } from './emails.ts';

export type TransactionalDeps = {
  store: EventStore;
  ns: Namespace;
  mailer: Mailer;
  linkSecret: Buffer;
  publicUrl: string;
  mailDomain: string;
  now: () => Date;
};

type LinkEvent = EventOf<'RegistrationRequested'> | EventOf<'VerificationReissued'> | EventOf<'PasswordResetRequested'>;

/** Who the user is, from their own subject's history (the registration carries username and email). */
async function recipientOf(deps: TransactionalDeps, userId: string): Promise<{ username: string; email: string } | undefined> {
  const { history } = await deps.store.load(subjects.user(deps.ns, userId));
  const registration = history.flatMap((h) => h.events).filter((e): e is EventOf<'RegistrationRequested'> => e.type === 'RegistrationRequested').at(-1);
  return registration ? { username: registration.data.username, email: registration.data.email } : undefined;
}

/**
 * Send the email a link event asks for, once: the email's own subject must be empty before sending and
 * EmailSent is appended there with expected sequence 0. A link past its expiry is not sent at all.
 */
export async function sendLinkEmail(deps: TransactionalDeps, event: LinkEvent): Promise<'sent' | 'already-sent' | 'expired' | 'no-recipient'> {
  const { userId, tokenNonce, expiresAt } = event.data;
  if (Date.parse(expiresAt) <= deps.now().getTime()) return 'expired';
  const purpose = event.type === 'PasswordResetRequested' ? 'reset' : 'verify';
  const kind: EmailKind = purpose === 'reset' ? 'password-reset' : 'verification';
  const reference = `${purpose}-${userId}-${tokenNonce}`;
  const subject = subjects.email(deps.ns, reference);
  if ((await deps.store.lastSeqOf(subject)) > 0) return 'already-sent';

  const recipient = event.type === 'RegistrationRequested' ? { username: event.data.username, email: event.data.email } : await recipientOf(deps, userId);
  if (!recipient) return 'no-recipient';
  const token = linkToken(deps.linkSecret, purpose, userId, tokenNonce);
  const link = `${deps.publicUrl}/${purpose === 'reset' ? 'password/reset' : 'verify'}?token=${encodeURIComponent(token)}`;
  const email: Email = purpose === 'reset' ? passwordResetEmail({ username: recipient.username, link }) : verificationEmail({ username: recipient.username, link });
  const messageId = messageIdFor(kind, `${userId}.${tokenNonce}`, deps.mailDomain);
  await deps.mailer.send({ to: recipient.email, subject: email.subject, text: email.text, html: email.html, headers: email.headers, messageId });
  try {
    await deps.store.append(subject, [{ type: 'EmailSent', data: { userId, kind, messageId, reference } } satisfies DomainEvent], {
      expectedSeq: 0,
      msgId: `sent-${reference}`,
      meta: { occurredAt: deps.now().toISOString(), correlationId: reference, causationId: reference },
    });
  } catch (error) {
    if (!(error instanceof ConcurrencyError)) throw error; // another notifier recorded the same email first
  }
  return 'sent';
}
