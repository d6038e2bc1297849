import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { subjects } from '../../events/index.ts';
import { testUserId } from '../personalKeys.ts';
import { tablesIn } from '../../platform/postgres.ts';
import { expectNoSecretsIn } from '../faults/support/invariants.ts';
import { projectedRun } from '../runs.ts';
import type { ReceivedEmail } from '../smtpSink.ts';
import { startTestSystem, type TestSystem } from '../system.ts';
import { webClient, type WebClient } from '../webClient.ts';

let system: TestSystem;
beforeAll(async () => {
  system = await startTestSystem({ captureLog: true });
});
afterAll(async () => system?.close());

const PASSWORD = 'a long password 5';
const OLD = 'traveller@old.example';
const NEW = 'traveller@new.example';
/** Every token emailed and every password typed here: none may reach what the services log. */
const secrets = new Set<string>([PASSWORD]);

afterEach(() => {
  const output = system.world.logOutput();
  expect(output).toContain('"msg":"incoming request"');
  expectNoSecretsIn(output, secrets, 'the output of the services');
  // Nor the addresses: the services log who (a user id), never where mail goes.
  expect(output).not.toContain(NEW);
  expect(output).not.toContain(OLD);
});

/** The path and query of a link in an email, its token remembered as a secret. */
function followable(mail: ReceivedEmail, path: string): string {
  const link = new RegExp(`http://localhost:7007(${path}\\?token=[^\\s"<>]+)`).exec(mail.text)?.[1];
  if (!link) throw new Error(`no ${path} link in: ${mail.text}`);
  secrets.add(decodeURIComponent(link.split('token=')[1]!));
  return link;
}

const to = (address: string) => system.smtp.received.filter((m) => m.to.includes(address));
const isDigest = (m: ReceivedEmail) => / crossed /.test(m.subject);
const isReset = (m: ReceivedEmail) => /reset your .* password/i.test(m.subject);

/** Wait until `address` has received `count` emails that `which` picks, and return the newest. */
async function arrived(address: string, which: (m: ReceivedEmail) => boolean, count = 1): Promise<ReceivedEmail> {
  await system.smtp.waitFor(() => to(address).filter(which).length >= count);
  return to(address).filter(which).at(-1)!;
}

/** Every email the notifier owes is sent and recorded: each EmailSent is in the read model (nothing still in flight). */
async function settled(userId: string, sent: number) {
  await vi.waitFor(
    async () => {
      const { rows } = await system.world.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${tablesIn(system.world.schema)('emails_sent')} WHERE user_id = $1`,
        [userId],
      );
      expect(rows[0]!.n).toBe(sent);
    },
    { timeout: 15_000 },
  );
}

/** Ask for a reset link by address, as someone who forgot their password does (from a client of their own). */
async function forgot(address: string, ip: string) {
  const browser = webClient(system.app, { ip });
  await browser.get('/password/forgot');
  expect((await browser.post('/password/forgot', { email: address })).status).toBe(200);
}

describe('changing the email address, end to end through the real SMTP sink', () => {
  it('keeps every email on the old address until the link is followed, then moves them all to the new one', async () => {
    // Registered at OLD, with an alert that the next runs will cross.
    const browser: WebClient = webClient(system.app, { ip: '10.40.0.1' });
    await browser.get('/register');
    expect((await browser.post('/register', { username: 'traveller', email: OLD, password: PASSWORD })).status).toBe(
      200,
    );
    expect((await browser.get(followable(await arrived(OLD, () => true), '/verify'))).status).toBe(200);
    await browser.get('/login');
    expect((await browser.post('/login', { username: 'traveller', password: PASSWORD })).status).toBe(303);
    const userId = testUserId('traveller');
    await projectedRun(system.world, '2026-11-02', { USD: '1.08' });
    expect(
      await system.send('SetAlert', {
        userId,
        alertId: 'travellerEURUSD',
        base: 'EUR',
        quote: 'USD',
        threshold: '1.10',
      }),
    ).toMatchObject({ ok: true });

    // The request: the link goes to the new address, and nothing to the old one.
    const page = await browser.get('/account/email');
    expect(page.body).toContain(`<strong>${OLD}</strong>`);
    const asked = await browser.post('/account/email', { email: NEW, password: PASSWORD });
    expect(asked.status).toBe(200);
    expect(asked.body).toContain(`We sent a confirmation link to ${NEW}`);
    const linkMail = await arrived(NEW, () => true);
    expect(linkMail.subject).toMatch(/confirm your new .* email address/i);
    expect(linkMail.text).toContain(`make ${NEW} the email address`);
    const confirm = followable(linkMail, '/account/email/confirm');
    await settled(userId, 2);
    expect(to(OLD)).toHaveLength(1);

    // Until it is followed: login as before, a reset link and a digest go to the old address, nothing to the new.
    const elsewhere = webClient(system.app, { ip: '10.40.0.2' });
    await elsewhere.get('/login');
    expect((await elsewhere.post('/login', { username: 'traveller', password: PASSWORD })).status).toBe(303);
    await forgot(NEW, '10.40.0.3');
    await forgot(OLD, '10.40.0.4');
    followable(await arrived(OLD, isReset), '/password/reset');
    await projectedRun(system.world, '2026-11-03', { USD: '1.11' });
    const digestBefore = await arrived(OLD, isDigest);
    expect(digestBefore.subject).toBe('EUR/USD crossed 1.10 going up');
    await settled(userId, 4);
    expect(to(NEW)).toHaveLength(1);
    const { history } = await system.world.store.load(subjects.user(system.world.ns, userId));
    expect(history.flatMap((h) => h.events).filter((e) => e.type === 'PasswordResetRequested')).toHaveLength(1);

    // The link followed (from the new inbox, no session): the address changes and the old address is told.
    const followed = await webClient(system.app, { ip: '10.40.0.5' }).get(confirm);
    expect(followed.status).toBe(200);
    expect(followed.body).toContain('Email address changed');
    const notice = await arrived(OLD, (m) => /email address was changed/i.test(m.subject));
    expect(notice.text).toContain(`was changed to ${NEW}`);
    expect(notice.text).toMatch(/If this was not you.*reset your password/);
    expect((await browser.get('/account/email')).body).toContain(`<strong>${NEW}</strong>`);

    // From then on: reset links and digests go to the new address only.
    await forgot(OLD, '10.40.0.6');
    await forgot(NEW, '10.40.0.7');
    followable(await arrived(NEW, isReset), '/password/reset');
    await projectedRun(system.world, '2026-11-04', { USD: '1.07' });
    expect((await arrived(NEW, isDigest)).subject).toBe('EUR/USD crossed 1.10 going down');
    await settled(userId, 7);
    expect(to(OLD).map((m) => m.subject)).toEqual([
      expect.stringMatching(/registration/i),
      expect.stringMatching(/reset your .* password/i),
      'EUR/USD crossed 1.10 going up',
      expect.stringMatching(/email address was changed/i),
    ]);
    expect(to(NEW).map((m) => m.subject)).toEqual([
      expect.stringMatching(/confirm your new .* email address/i),
      expect.stringMatching(/reset your .* password/i),
      'EUR/USD crossed 1.10 going down',
    ]);

    // The history says what happened, without the addresses.
    const activity = await browser.get('/activity');
    expect(activity.body).toContain('Asked to change the email address');
    expect(activity.body).toContain('Changed the email address');
    expect(activity.body).not.toContain(NEW);
  });
});
