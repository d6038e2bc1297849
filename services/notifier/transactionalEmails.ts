import { linkEmailKey, subjects, type EventOf, type Namespace } from '../../events/index.ts';
import type { StoredEvents } from '../../platform/eventStore/index.ts';
import { ERASED, type PersonalData } from '../../platform/personalData/index.ts';
import { linkToken, type LinkPurpose } from '../../platform/tokens.ts';
import { accountHistory, erasedAfter } from './accountHistory.ts';
import { claimEmail } from './emailClaims.ts';
import { sendClaimed, type MailDeps } from './emailDelivery.ts';
import {
  emailChangedEmail,
  emailChangeEmail,
  messageIdFor,
  passwordResetEmail,
  verificationEmail,
  type Email,
  type EmailKind,
} from './emails.ts';

export type TransactionalDeps = MailDeps & {
  ns: Namespace;
  linkSecret: Buffer;
  publicUrl: string;
  mailDomain: string;
  /** Opens the recipient's sealed username and address (platform/personalData). */
  personal: PersonalData;
};

type LinkEvent =
  | EventOf<'RegistrationRequested'>
  | EventOf<'VerificationReissued'>
  | EventOf<'PasswordResetRequested'>
  | EventOf<'EmailChangeRequested'>;

type Recipient = { username: string; email: string };

/**
 * Who the user was at log sequence `seq`, from their own subject's history: the registration carries username and
 * email, and each change of address followed by then replaces the email. Read as of the event, not as of now, so an
 * email asked for before a change goes to the address of that time, whenever the notifier gets to it.
 */
export function recipientAt(history: readonly StoredEvents[], seq: number): Recipient | undefined {
  let recipient: Recipient | undefined;
  for (const stored of history) {
    if (stored.seq > seq) break;
    for (const e of stored.events) {
      if (e.type === 'RegistrationRequested') recipient = { username: e.data.username, email: e.data.email };
      if (e.type === 'EmailChanged' && recipient) recipient = { ...recipient, email: e.data.email };
    }
  }
  return recipient;
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

/** Each link event's purpose (its token's HMAC purpose), the kind of its email and the page its link opens. */
const links = {
  RegistrationRequested: { purpose: 'verify', kind: 'verification', path: 'verify' },
  VerificationReissued: { purpose: 'verify', kind: 'verification', path: 'verify' },
  PasswordResetRequested: { purpose: 'reset', kind: 'password-reset', path: 'password/reset' },
  EmailChangeRequested: { purpose: 'email-change', kind: 'email-change', path: 'account/email/confirm' },
} as const satisfies Record<LinkEvent['type'], { purpose: LinkPurpose; kind: EmailKind; path: string }>;

/**
 * `already-sent`: sent, or given up, before. `undeliverable`: the mail server refused it for good, or it failed for
 * 24 h (EmailUndeliverable). `busyUntil`: another instance has it, or it failed for now: look again then.
 */
type SendOutcome = 'sent' | 'already-sent' | 'undeliverable' | 'no-recipient' | 'erased' | { busyUntil: string };

/**
 * Send one email once: on the email's own subject (keyed by `reference`) this instance claims it, sends it and records
 * what came of it (emailClaims.ts, emailDelivery.ts). The Message-ID is deterministic, so a resend after a crash is the
 * same message. `to` is the address in plain text and sealed as the log holds it.
 */
export async function sendOnce(
  deps: TransactionalDeps,
  email: {
    userId: string;
    kind: EmailKind;
    reference: string;
    messageRef: string;
    to: { plain: string; sealed: string };
    content: () => Email;
  },
): Promise<Exclude<SendOutcome, 'no-recipient' | 'erased'>> {
  const { userId, kind, reference } = email;
  const subject = subjects.email(deps.ns, reference);
  const meta = { occurredAt: deps.now().toISOString(), correlationId: reference, causationId: reference };
  const claim = await claimEmail(deps, subject, { userId, kind, reference }, { msgId: `claim-${reference}`, meta });
  if (claim.outcome === 'sent') return 'already-sent';
  if (claim.outcome === 'busy' || claim.outcome === 'later') return { busyUntil: claim.until };
  const delivered = await sendClaimed(deps, subject, claim, {
    userId,
    kind,
    reference,
    to: email.to,
    messageId: messageIdFor(kind, email.messageRef, deps.mailDomain),
    content: email.content(),
    sentMsgId: `sent-${reference}`,
    meta,
  });
  if (delivered === 'sent') return 'sent';
  return 'deferredUntil' in delivered ? { busyUntil: delivered.deferredUntil } : 'undeliverable';
}

/**
 * Send the email a link event (stored at log sequence `seq`) asks for, once. A link past its expiry is not sent at
 * all. A verification or reset link goes to the account's address as of the event; the link confirming a new
 * address goes to that new address.
 */
export async function sendLinkEmail(
  deps: TransactionalDeps,
  event: LinkEvent,
  seq: number,
): Promise<SendOutcome | 'expired'> {
  const { userId, tokenNonce, expiresAt } = event.data;
  if (Date.parse(expiresAt) <= deps.now().getTime()) return 'expired';
  // The account's own subject, read before the claim (the log, not a read model that may lag): erased since, no email.
  const history = await accountHistory(deps, userId);
  if (erasedAfter(history, seq)) return 'erased';
  const { purpose, kind, path } = links[event.type];

  const sealed =
    event.type === 'RegistrationRequested'
      ? { username: event.data.username, email: event.data.email }
      : recipientAt(history, seq);
  const account = sealed && (await revealRecipient(deps.personal, userId, sealed));
  if (!account) return 'no-recipient';
  const to =
    event.type === 'EmailChangeRequested'
      ? { plain: await deps.personal.reveal(userId, 'email', event.data.email), sealed: event.data.email }
      : { plain: account.email, sealed: sealed.email };
  if (to.plain === ERASED) return 'no-recipient';
  const link = `${deps.publicUrl}/${path}?token=${encodeURIComponent(linkToken(deps.linkSecret, purpose, userId, tokenNonce))}`;
  return sendOnce(deps, {
    userId,
    kind,
    reference: linkEmailKey(purpose, userId, tokenNonce),
    messageRef: `${userId}.${tokenNonce}`,
    to,
    content: () =>
      event.type === 'EmailChangeRequested'
        ? emailChangeEmail({ username: account.username, link, email: to.plain })
        : purpose === 'reset'
          ? passwordResetEmail({ username: account.username, link })
          : verificationEmail({ username: account.username, link }),
  });
}

/**
 * Tell the previous address that the account's address changed (EmailChanged, stored at log sequence `seq`), once:
 * should it not have been the owner, this is how they learn of it.
 */
export async function sendEmailChangedNotice(
  deps: TransactionalDeps,
  event: EventOf<'EmailChanged'>,
  seq: number,
): Promise<SendOutcome> {
  const { userId } = event.data;
  const history = await accountHistory(deps, userId);
  if (erasedAfter(history, seq)) return 'no-recipient';
  const sealed = recipientAt(history, seq);
  const account = sealed && (await revealRecipient(deps.personal, userId, sealed));
  if (!account) return 'no-recipient';
  const [email, previousEmail] = await Promise.all([
    deps.personal.reveal(userId, 'email', event.data.email),
    deps.personal.reveal(userId, 'email', event.data.previousEmail),
  ]);
  if (previousEmail === ERASED) return 'no-recipient';
  return sendOnce(deps, {
    userId,
    kind: 'email-changed',
    reference: `email-changed-${userId}-${seq}`,
    messageRef: `${userId}.${seq}`,
    to: { plain: previousEmail, sealed: event.data.previousEmail },
    content: () =>
      emailChangedEmail({ username: account.username, email, accountLink: `${deps.publicUrl}/account/email` }),
  });
}
