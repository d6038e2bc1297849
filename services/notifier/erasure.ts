import { subjects, type EventData } from '../../events/index.ts';
import type { Logger } from '../../platform/logger.ts';
import { accountHistory } from './accountHistory.ts';
import { claimEmail } from './emailClaims.ts';
import { sendClaimed } from './emailDelivery.ts';
import { accountErasedEmail, messageIdFor } from './emails.ts';
import { recipientAt, revealRecipient, type TransactionalDeps } from './transactionalEmails.ts';

export type ErasureDeps = TransactionalDeps & { logger: Logger };

/** An AccountErased as the log holds it: the event and its sequence. */
export type Erasure = { seq: number } & EventData<'AccountErased'>;

/**
 * The confirmation went now (`sent`), went (or was given up) before (`already-sent`), could not go (`no-address`: no
 * address is on record), or the mail server refused it for good or kept failing for 24 h (`undeliverable`).
 */
type Confirmation = 'sent' | 'already-sent' | 'no-address' | 'undeliverable';
export type ErasureOutcome = { confirmation: Confirmation } | { busyUntil: string };

/**
 * The one place where an erasure's side effects happen: the notifier's durable consumer calls it on AccountErased,
 * and acknowledges the event only once it returned, so after a crash it runs again, whole.
 *
 * 1. The confirmation email, to the address the account had (read from its subject in the log), through the
 *    exactly-once path of every email (emailClaims.ts, kind `account-erased`): run again, it finds EmailSent and sends
 *    nothing, so a crash after the email and before the acknowledgement sends it once.
 * 2. Only then, `eraseAfterConfirmation`: what is destroyed. Nothing is destroyed before the email has gone.
 *
 * What is not here, because it needs no step of its own: the read models drop the account's rows on the same event
 * (the projector), and no email is sent for the account any more (digests.ts and transactionalEmails.ts check first).
 */
export async function handleErasure(deps: ErasureDeps, erasure: Erasure): Promise<ErasureOutcome> {
  const { userId, seq } = erasure;
  const reference = `erased-${userId}-${seq}`;
  const subject = subjects.email(deps.ns, reference);
  const meta = { occurredAt: deps.now().toISOString(), correlationId: reference, causationId: reference };
  const claim = await claimEmail(
    deps,
    subject,
    { userId, kind: 'account-erased', reference },
    { msgId: `claim-${reference}`, meta },
  );
  if (claim.outcome === 'busy' || claim.outcome === 'later') return { busyUntil: claim.until };
  let confirmation: Confirmation = 'already-sent';
  if (claim.outcome === 'send') {
    // The address it had at the erasure (a change of address included), opened with the key destroyed next.
    const sealed = recipientAt(await accountHistory(deps, userId), seq);
    const account = sealed && (await revealRecipient(deps.personal, userId, sealed));
    if (account) {
      const delivered = await sendClaimed(deps, subject, claim, {
        userId,
        kind: 'account-erased',
        reference,
        to: { plain: account.email, sealed: sealed.email },
        messageId: messageIdFor('account-erased', `${userId}.${seq}`, deps.mailDomain),
        content: accountErasedEmail({ username: account.username, by: erasure.by }),
        sentMsgId: `sent-${reference}`,
        meta,
      });
      // Failed for now: nothing is destroyed yet, the erasure is looked at again once the email may be tried.
      if (typeof delivered === 'object' && 'deferredUntil' in delivered) return { busyUntil: delivered.deferredUntil };
      confirmation = delivered === 'sent' ? 'sent' : 'undeliverable';
    } else confirmation = 'no-address';
  }
  await eraseAfterConfirmation(deps, erasure, confirmation);
  return { confirmation };
}

/**
 * What is destroyed once the confirmation has gone (or could not go), in this order; every step may run again (a crash
 * before the acknowledgement runs the whole handling again), so each must be safe to repeat:
 *
 * 1. Destroy the person's key (crypto-shredding, platform/personalData): from then on the personal fields of their
 *    events in the log and their rows, the address the confirmation just went to among them, cannot be read by anyone.
 *    Only the key the erasure names (`keyRevision`): the username may be registered anew since, under a new key.
 * 2. Nothing else the notifier holds names them: it keeps no copy of an address or a username (it reads them from the
 *    log when it needs them), so there is nothing more to delete on this side.
 * 3. Say that the erasure is complete, in one log line naming only the user id and the erasure's sequence.
 */
export async function eraseAfterConfirmation(
  deps: ErasureDeps,
  erasure: Erasure,
  confirmation: Confirmation,
): Promise<void> {
  if (erasure.keyRevision !== undefined) await deps.personal.forget(erasure.userId, erasure.keyRevision);
  deps.logger.info(
    { userId: erasure.userId, seq: erasure.seq, by: erasure.by, confirmation },
    'account erased: confirmation handled, nothing of it left to the notifier',
  );
}
