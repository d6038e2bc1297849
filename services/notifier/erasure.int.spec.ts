import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, subjects, type DomainEvent, type EventOf } from '../../events/index.ts';
import { createMailer, type Mailer } from '../../platform/mailer.ts';
import { linkSecret } from '../../platform/tokens.ts';
import { meta, openTestWorld, type TestWorld } from '../../test/harness.ts';
import { startSmtpSink, type SmtpSink } from '../../test/smtpSink.ts';
import { handleErasure, type ErasureDeps } from './erasure.ts';
import { sendLinkEmail } from './transactionalEmails.ts';
import { testUserId } from '../../test/personalKeys.ts';

// The notifier and an erased account, on a real log and a real SMTP server: no link email for it once it is erased,
// the confirmation to the address it had (not to whoever registered the username since), and that confirmation once.
let world: TestWorld;
let sink: SmtpSink;
let mailer: Mailer;
let deps: ErasureDeps;
beforeAll(async () => {
  world = await openTestWorld();
  sink = await startSmtpSink();
  mailer = createMailer({ smtpUrl: sink.url, from: 'CRA <alerts@cra.test>' });
  deps = {
    store: world.store,
    personal: world.personal,
    ns: world.ns,
    mailer,
    linkSecret: linkSecret('a test secret that is certainly long enough'),
    publicUrl: 'http://localhost:7007',
    mailDomain: 'cra.test',
    now: () => new Date(),
    instanceId: 'notifier-test',
    claimMs: 60_000,
    logger: world.logger,
  };
});
afterAll(async () => {
  mailer?.close();
  await sink?.close();
  await world?.close();
});

const hash = 'ab'.repeat(32);
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const requested = (userId: string, username: string, email: string) =>
  event('RegistrationRequested', {
    userId,
    username,
    email,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
    tokenNonce: randomUUID().replaceAll('-', ''),
    tokenHash: hash,
    expiresAt: inAnHour(),
  });
const resetAsked = (userId: string) =>
  event('PasswordResetRequested', {
    userId,
    tokenNonce: randomUUID().replaceAll('-', ''),
    tokenHash: hash,
    expiresAt: inAnHour(),
  });

/** Append these messages to one user's subject, in order; their sequences. */
async function history(userId: string, messages: DomainEvent[][]): Promise<number[]> {
  const seqs: number[] = [];
  for (const events of messages)
    seqs.push(
      (
        await world.store.append(subjects.user(world.ns, userId), events, {
          expectedSeq: 'any',
          msgId: randomUUID(),
          meta: meta(),
        })
      ).seq,
    );
  return seqs;
}

const mailTo = (address: string) => sink.received.filter((m) => m.to === address);
const settle = () => new Promise((r) => setTimeout(r, 500));

describe('link emails of an erased account', () => {
  it('sends no verification link for a registration erased before it went', async () => {
    const userId = testUserId('pending-erased');
    const registration = requested(userId, 'pending-erased', 'pending.erased@example.com');
    const [at] = await history(userId, [[registration], [event('AccountErased', { userId, by: 'operator' })]]);
    expect(await sendLinkEmail(deps, registration, at!)).toBe('erased');
    await settle();
    expect(mailTo('pending.erased@example.com')).toEqual([]);
  });

  it('sends no reset link asked for before the erasure, and the new account of the username gets its own', async () => {
    const userId = testUserId('reused');
    const oldReset = resetAsked(userId);
    const newReset = resetAsked(userId);
    const [, , oldAt, , , newAt] = await history(userId, [
      [requested(userId, 'reused', 'old.owner@example.com')],
      [event('UserRegistered', { userId, username: 'reused', email: 'old.owner@example.com' })],
      [oldReset],
      [event('AccountErased', { userId, by: 'owner' })],
      [requested(userId, 'reused', 'new.owner@example.com')],
      [newReset],
    ]);
    expect(await sendLinkEmail(deps, oldReset, oldAt!)).toBe('erased');
    expect(await sendLinkEmail(deps, newReset, newAt!)).toBe('sent');
    await settle();
    expect(mailTo('old.owner@example.com')).toEqual([]);
    expect(mailTo('new.owner@example.com').map((m) => m.subject)).toEqual([
      'Reset your Currency Ratio Alerter password',
    ]);
  });
});

describe('the erasure confirmation', () => {
  it('goes once, to the address the account had, however often the erasure is handled', async () => {
    const userId = testUserId('confirmed');
    const [, , erasedAt] = await history(userId, [
      [requested(userId, 'confirmed', 'confirmed.old@example.com')],
      [event('UserRegistered', { userId, username: 'confirmed', email: 'confirmed.old@example.com' })],
      [event('AccountErased', { userId, by: 'owner' })],
      // Someone registered the username since: the confirmation is still the old account's.
      [requested(userId, 'confirmed', 'confirmed.new@example.com')],
    ]);
    const erasure = { seq: erasedAt!, userId, by: 'owner' as const };
    expect(await handleErasure(deps, erasure)).toEqual({ confirmation: 'sent' });
    expect(await handleErasure(deps, erasure)).toEqual({ confirmation: 'already-sent' });
    expect(await handleErasure({ ...deps, instanceId: 'another-notifier' }, erasure)).toEqual({
      confirmation: 'already-sent',
    });
    await settle();
    const [confirmation, ...more] = mailTo('confirmed.old@example.com');
    expect(more).toEqual([]);
    expect(confirmation!.subject).toBe('Your Currency Ratio Alerter account was deleted');
    expect(confirmation!.messageId).toBe(`<erased.${userId}.${erasedAt}@cra.test>`);
    expect(mailTo('confirmed.new@example.com')).toEqual([]);
    const mail = await world.store.load(subjects.email(world.ns, `erased-${userId}-${erasedAt}`));
    const sent = mail.history.flatMap((h) => h.events).filter((e): e is EventOf<'EmailSent'> => e.type === 'EmailSent');
    expect(sent.map((e) => e.data)).toEqual([
      { userId, kind: 'account-erased', messageId: confirmation!.messageId, reference: `erased-${userId}-${erasedAt}` },
    ]);
  });
});
