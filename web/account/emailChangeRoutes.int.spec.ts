import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { subjects, type EventOf } from '../../events/index.ts';
import { tablesIn } from '../../platform/postgres.ts';
import { linkToken } from '../../platform/tokens.ts';
import { EMAIL_CHANGE_TTL_MS } from '../../services/command/user/userState.ts';
import { startTestSystem, type TestSystem } from '../../test/system.ts';
import { registeredBrowser, registeredUser } from '../../test/testUsers.ts';
import { webClient } from '../../test/webClient.ts';
import { currentAddressOf } from './emailChangeQueries.ts';

const PASSWORD = 'the right password 1';
const HOUR = 3_600_000;
let system: TestSystem;
/** How far the command service's clock runs ahead of the real one: links expire by it. */
let clockAhead = 0;

beforeAll(async () => {
  system = await startTestSystem({
    commandClock: () => new Date(Date.now() + clockAhead),
    web: {
      rateLimits: {
        emailChangesPerAccount: { max: 3, timeWindowMs: HOUR },
        emailLinksPerClient: { max: 4, timeWindowMs: HOUR },
      },
    },
  });
});
afterAll(async () => system?.close());

const userSubject = (userId: string) => subjects.user(system.world.ns, userId);
const emailOf = async (userId: string) =>
  (
    await currentAddressOf(
      { pool: system.world.pool, schema: system.world.schema, personal: system.world.personal },
      userId,
    )
  ).email;

/** The changes of address a user asked for, in order. */
async function changesAsked(userId: string) {
  const { history } = await system.world.store.load(userSubject(userId));
  return history
    .flatMap((h) => h.events)
    .filter((e): e is EventOf<'EmailChangeRequested'> => e.type === 'EmailChangeRequested');
}

/** The path of the link the notifier emails for the latest change asked for, made from the nonce in the log. */
async function confirmLink(userId: string) {
  const nonce = (await changesAsked(userId)).at(-1)!.data.tokenNonce;
  return `/account/email/confirm?token=${encodeURIComponent(linkToken(system.linkSecret, 'email-change', userId, nonce))}`;
}

/** A signed-in user on the change-of-address page, from a client address of their own. */
async function onTheForm(username: string, ip: string) {
  const signedIn = await registeredBrowser(system, username, PASSWORD, { ip });
  const page = await signedIn.browser.get('/account/email');
  expect(page.status).toBe(200);
  return signedIn;
}

const errorBeside = (body: string, id: string) =>
  new RegExp(`id="${id}-error">([^<]*)<`).exec(body)?.[1] ?? /class="form-error" role="alert">([^<]*)</.exec(body)?.[1];

describe('the change-of-address form', () => {
  it('shows the current address and the form only to a signed-in user', async () => {
    const { browser } = await onTheForm('shown', '10.30.0.1');
    const page = await browser.get('/account/email');
    expect(page.body).toContain('<strong>shown@example.test</strong>');
    expect(page.body).toMatch(/<form[^>]+action="\/account\/email"/);
    expect(page.body).toContain('name="_csrf"');
    expect(page.body).toContain('id="f-new-email"');
    expect(page.body).toContain('id="f-email-password"');

    const guest = webClient(system.app, { ip: '10.30.0.2' });
    const redirected = await guest.get('/account/email');
    expect(redirected.status).toBe(303);
    expect(redirected.location).toBe('/login?next=%2Faccount%2Femail');
    await guest.get('/login');
    const posted = await guest.post('/account/email', { email: 'x@example.org', password: PASSWORD });
    expect(posted.status).toBe(401);
  });

  it('asks for the change, and the address changes only when the link is followed, once', async () => {
    const { browser, userId } = await onTheForm('mover', '10.30.1.1');
    const asked = await browser.post('/account/email', { email: 'mover@new.example', password: PASSWORD });
    expect(asked.status).toBe(200);
    expect(asked.body).toContain('We sent a confirmation link to mover@new.example');
    expect(asked.body).toContain('keep going to mover@example.test');
    expect(await emailOf(userId)).toBe('mover@example.test');

    // Followed from the mail client: no session needed, the link is the proof.
    const mailClient = webClient(system.app, { ip: '10.30.1.2' });
    const link = await confirmLink(userId);
    const followed = await mailClient.get(link);
    expect(followed.status).toBe(200);
    expect(followed.body).toContain('Email address changed');
    expect(await emailOf(userId)).toBe('mover@new.example');
    expect((await browser.get('/account/email')).body).toContain('<strong>mover@new.example</strong>');

    const again = await mailClient.get(link);
    expect(again.status).toBe(410);
    expect(again.body).toContain('Link already used');
    expect(await emailOf(userId)).toBe('mover@new.example');
  });

  it('refuses a link followed after 24 hours, and an older link once a newer one was sent, changing nothing', async () => {
    const { browser, userId } = await onTheForm('latecomer', '10.30.2.1');
    expect((await browser.post('/account/email', { email: 'late@new.example', password: PASSWORD })).status).toBe(200);
    const first = await confirmLink(userId);
    const mailClient = webClient(system.app, { ip: '10.30.2.2' });
    clockAhead = EMAIL_CHANGE_TTL_MS + 1_000;
    try {
      const expired = await mailClient.get(first);
      expect(expired.status).toBe(410);
      expect(expired.body).toContain('Link expired');
      expect(expired.body).toContain('Your address was not changed');
    } finally {
      clockAhead = 0;
    }
    expect(await emailOf(userId)).toBe('latecomer@example.test');

    expect((await browser.post('/account/email', { email: 'later@new.example', password: PASSWORD })).status).toBe(200);
    const superseded = await mailClient.get(first);
    expect(superseded.status).toBe(400);
    expect(superseded.body).toContain('Link not valid');
    expect(await emailOf(userId)).toBe('latecomer@example.test');
    expect((await mailClient.get(await confirmLink(userId))).status).toBe(200);
    expect(await emailOf(userId)).toBe('later@new.example');
  });

  it('says a link that is not one of ours is not valid, never a 500', async () => {
    const mailClient = webClient(system.app, { ip: '10.30.3.1' });
    for (const token of ['', 'short', 'x'.repeat(300), `u${'0'.repeat(32)}.${'A'.repeat(43)}`]) {
      const res = await mailClient.get(`/account/email/confirm?token=${token}`);
      expect(res.status, token).toBe(400);
      expect(res.body, token).toContain('Link not valid');
    }
  });

  it('refuses a wrong password beside the password field, writing nothing, as a page or as the form alone', async () => {
    const { browser, userId } = await onTheForm('fumbler', '10.30.4.1');
    const before = await system.world.store.lastSeqOf(userSubject(userId));
    const wrong = await browser.post('/account/email', { email: 'fumbler@new.example', password: 'not my password' });
    expect(wrong.status).toBe(403);
    expect(errorBeside(wrong.body, 'f-email-password')).toBe('Wrong password');
    expect(wrong.body).toContain('value="fumbler@new.example"');
    expect(wrong.body).not.toContain('not my password');
    expect(wrong.body).toContain('<h1>Change your email address</h1>');

    const htmx = await browser.post(
      '/account/email',
      { email: 'fumbler@new.example', password: 'not my password' },
      { 'hx-request': 'true' },
    );
    expect(htmx.status).toBe(403);
    expect(htmx.body.startsWith('<form')).toBe(true);
    expect(errorBeside(htmx.body, 'f-email-password')).toBe('Wrong password');
    expect(await system.world.store.lastSeqOf(userSubject(userId))).toBe(before);
  });

  it('refuses an address that is not one, or is already the account’s, beside the address field', async () => {
    const { browser, userId } = await onTheForm('typist', '10.30.5.1');
    const before = await system.world.store.lastSeqOf(userSubject(userId));
    const invalid = await browser.post('/account/email', { email: 'not an address', password: PASSWORD });
    expect(invalid.status).toBe(422);
    expect(errorBeside(invalid.body, 'f-new-email')).toBe('Enter a valid email address');
    const same = await browser.post('/account/email', { email: 'TYPIST@example.test', password: PASSWORD });
    expect(same.status).toBe(422);
    expect(errorBeside(same.body, 'f-new-email')).toBe('That is already your address');
    expect(await system.world.store.lastSeqOf(userSubject(userId))).toBe(before);
  });

  it('refuses the form without the right CSRF token, writing nothing', async () => {
    const { browser, userId } = await onTheForm('forged', '10.30.6.1');
    const before = await system.world.store.lastSeqOf(userSubject(userId));
    const form = { email: 'forged@new.example', password: PASSWORD };
    expect((await browser.postRaw('/account/email', form)).status).toBe(403);
    expect((await browser.postRaw('/account/email', { ...form, _csrf: 'forged' })).status).toBe(403);
    expect(await system.world.store.lastSeqOf(userSubject(userId))).toBe(before);
    expect(await emailOf(userId)).toBe('forged@example.test');
  });

  it('answers the same whether or not another account already uses the new address', async () => {
    await registeredUser(system, 'occupant', PASSWORD);
    const { browser, userId } = await onTheForm('prober', '10.30.7.1');
    const taken = await browser.post('/account/email', { email: 'occupant@example.test', password: PASSWORD });
    const free = await browser.post('/account/email', { email: 'nobody-has-this@example.test', password: PASSWORD });
    expect(taken.status).toBe(200);
    expect(free.status).toBe(200);
    const shape = (body: string, address: string) =>
      body
        .replaceAll(address, 'ADDRESS')
        .replace(/value="[^"]*"/g, '')
        .replace(/hx-headers:inherited='[^']*'/g, '');
    expect(shape(taken.body, 'occupant@example.test')).toBe(shape(free.body, 'nobody-has-this@example.test'));
    // Both were taken as asked: a link went out for each, whoever uses the address.
    const asked = await Promise.all(
      (await changesAsked(userId)).map((e) => system.world.personal.reveal(userId, 'email', e.data.email)),
    );
    expect(asked).toEqual(['occupant@example.test', 'nobody-has-this@example.test']);
  });

  it('limits tries per account, from any client, and per client, whatever the account', async () => {
    const { browser: first, userId } = await onTheForm('hammer', '10.30.8.1');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const client = webClient(system.app, { ip: `10.30.8.${10 + i}` });
      for (const [name, value] of first.jar) client.setCookie(name, value);
      await client.get('/account/email');
      const res = await client.post('/account/email', { email: 'hammer@new.example', password: 'guess number 1' });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.body).toContain('Too many attempts');
        expect(res.headers['retry-after']).toBeDefined();
      }
    }
    expect(statuses).toEqual([403, 403, 403, 429]);
    // The right password does not get past the limit either.
    expect((await first.post('/account/email', { email: 'hammer@new.example', password: PASSWORD })).status).toBe(429);
    expect(await changesAsked(userId)).toEqual([]);

    // One client address, two accounts: the client's budget (4 here) is shared by both.
    const shared = '10.30.9.1';
    const a = await onTheForm('neighbour-a', shared);
    const b = await onTheForm('neighbour-b', shared);
    const answered: number[] = [];
    for (const { browser } of [a, a, a, b, b])
      answered.push(
        (await browser.post('/account/email', { email: 'shared@new.example', password: 'a wrong guess 2' })).status,
      );
    expect(answered).toEqual([403, 403, 403, 403, 429]);
  });
});

describe('the link email', () => {
  it('goes to the new address only, with the link that makes the change', async () => {
    const { browser, userId } = await onTheForm('mailed', '10.30.10.1');
    const toOld = () => system.smtp.received.filter((m) => m.to.includes('mailed@example.test'));
    await system.smtp.waitFor(() => toOld().length === 1); // the verification email of the registration
    const mark = system.smtp.received.length;
    expect((await browser.post('/account/email', { email: 'mailed@new.example', password: PASSWORD })).status).toBe(
      200,
    );
    const mail = (await system.smtp.waitFor((m) => m.slice(mark).some((e) => e.to.includes('mailed@new.example'))))
      .slice(mark)
      .find((e) => e.to.includes('mailed@new.example'));
    expect(mail!.subject).toMatch(/confirm your new .* email address/i);
    const link = /http:\/\/localhost:7007(\/account\/email\/confirm\?token=[^\s"<>]+)/.exec(mail!.text)?.[1];
    expect(link).toBe(await confirmLink(userId));
    await vi.waitFor(async () => {
      const kinds = await system.world.pool.query<{ kind: string }>(
        `SELECT kind FROM ${tablesIn(system.world.schema)('emails_sent')} WHERE user_id = $1 ORDER BY seq`,
        [userId],
      );
      expect(kinds.rows.map((r) => r.kind)).toContain('email-change');
    });
    expect(toOld()).toHaveLength(1);
    expect(system.smtp.received.filter((m) => m.to.includes('mailed@new.example'))).toHaveLength(1);
  });
});
