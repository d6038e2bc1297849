import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { subjects } from '../../events/index.ts';
import { linkToken } from '../../platform/tokens.ts';
import type { SendCommand } from '../../platform/commandClient.ts';
import { startTestSystem, type TestSystem } from '../../test/system.ts';
import { webClient } from '../../test/webClient.ts';
import { registeredUser } from '../../test/testUsers.ts';
import { testUserId } from '../../test/personalKeys.ts';

let system: TestSystem;
beforeAll(async () => {
  system = await startTestSystem({ web: { rateLimits: { loginPerUsername: { max: 4, timeWindowMs: 60_000 } } } });
});
afterAll(async () => system?.close());

/** The events of a user's stream that issued a link for `purpose`, in order. */
async function linksIssued(username: string, purpose: 'verify' | 'reset') {
  const { history } = await system.world.store.load(subjects.user(system.world.ns, testUserId(username)));
  const wanted = purpose === 'verify' ? ['RegistrationRequested', 'VerificationReissued'] : ['PasswordResetRequested'];
  return history.flatMap((h) => h.events).filter((e) => wanted.includes(e.type)) as { data: { tokenNonce: string } }[];
}

/** The link the notifier would email, recomputed from the nonce in the log (the SMTP journey is tested end to end elsewhere). */
async function linkFor(username: string, purpose: 'verify' | 'reset') {
  // Forgot-password and resend do their work after answering: wait for it to be in the log.
  const issued = await vi.waitFor(async () => {
    const found = await linksIssued(username, purpose);
    expect(found.length).toBeGreaterThan(0);
    return found;
  });
  return linkToken(system.linkSecret, purpose, testUserId(username), issued.at(-1)!.data.tokenNonce);
}

async function registerAndVerify(username: string, password = 'correct horse battery') {
  const browser = webClient(system.app);
  await browser.get('/register');
  const res = await browser.post('/register', { username, email: `${username}@example.com`, password });
  expect(res.status).toBe(200);
  expect((await browser.get(`/verify?token=${await linkFor(username, 'verify')}`)).status).toBe(200);
  return browser;
}

describe('accounts over HTTP', () => {
  it('a login page reached from a page behind login goes back there, with the form and after a wrong password too', async () => {
    await registeredUser(system, 'nextia', 'correct horse battery');
    const browser = webClient(system.app);
    const guest = await browser.get('/account');
    expect(guest.location).toBe('/login?next=%2Faccount');
    const page = await browser.get(guest.location!);
    expect(page.body).toContain('action="/login?next=%2Faccount"');
    const wrong = await browser.post('/login?next=%2Faccount', { username: 'nextia', password: 'wrong password!!' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain('action="/login?next=%2Faccount"');
    const login = await browser.post('/login?next=%2Faccount', {
      username: 'nextia',
      password: 'correct horse battery',
    });
    expect(login.location).toBe('/account');
    expect((await browser.get('/login?next=%2Faccount')).location).toBe('/account');
    // Anywhere else is no place to go: the plain form, and the alerts after a login.
    expect((await webClient(system.app).get('/login?next=https%3A%2F%2Fevil.test')).body).toContain('action="/login"');
  });

  it('registers, verifies, logs in and out, and refuses the old cookie afterwards', async () => {
    const browser = webClient(system.app);
    expect((await browser.get('/register')).body).toContain('name="_csrf"');
    const registered = await browser.post('/register', {
      username: 'Ada',
      email: 'ada@example.com',
      password: 'correct horse battery',
    });
    expect(registered.status).toBe(200);
    expect(registered.body).toContain('Check your email');

    await browser.get('/login');
    expect((await browser.post('/login', { username: 'ada', password: 'correct horse battery' })).status).toBe(401);

    const verified = await browser.get(`/verify?token=${await linkFor('ada', 'verify')}`);
    expect(verified.status).toBe(200);
    expect(verified.body).toContain('Your account is ready');
    expect((await browser.get(`/verify?token=${await linkFor('ada', 'verify')}`)).status).toBe(410);

    const login = await browser.post('/login', { username: 'ada', password: 'correct horse battery' });
    expect(login.status).toBe(303);
    expect(login.location).toBe('/alerts');
    const cookie = browser.cookie('cra_session')!;
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/cra_session=.*HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);

    expect((await browser.get('/login')).location).toBe('/alerts');
    await browser.get('/alerts');
    const logout = await browser.post('/logout');
    expect(logout.status).toBe(303);
    expect(browser.cookie('cra_session')).toBeUndefined();

    const replayed = webClient(system.app);
    replayed.setCookie('cra_session', cookie);
    const page = await replayed.get('/login');
    expect(page.status).toBe(200);
    expect(page.body).toContain('Log in');
  });

  it('carries the request id as the correlation id of the events it causes', async () => {
    const browser = webClient(system.app);
    await browser.get('/register');
    const res = await browser.post('/register', {
      username: 'traced',
      email: 'traced@example.com',
      password: 'correct horse battery',
    });
    const requestId = res.headers['x-request-id'];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const { history } = await system.world.store.load(subjects.user(system.world.ns, testUserId('traced')));
    expect(history[0]!.meta.correlationId).toBe(requestId);
  });

  it('gives the same answer for an unknown user and a wrong password', async () => {
    await registerAndVerify('grace');
    const browser = webClient(system.app, { ip: '10.0.0.2' });
    await browser.get('/login');
    const unknown = await browser.post('/login', { username: 'nobody', password: 'whatever password' });
    const wrong = await browser.post('/login', { username: 'grace', password: 'wrong password!!' });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    const message = (body: string) => /<p class="form-error" role="alert">([^<]*)<\/p>/.exec(body)?.[1];
    expect(message(unknown.body)).toBe('Wrong username or password');
    expect(message(wrong.body)).toBe(message(unknown.body));
  });

  it('limits login attempts per username with a 429 and a clear message', async () => {
    await registerAndVerify('bruteforced');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const browser = webClient(system.app, { ip: `10.1.0.${i}` });
      await browser.get('/login');
      const res = await browser.post('/login', { username: 'bruteforced', password: 'wrong password!!' });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.body).toContain('Too many attempts');
        expect(res.headers['retry-after']).toBeDefined();
      }
    }
    expect(statuses.slice(0, 4)).toEqual([401, 401, 401, 401]);
    expect(statuses.slice(4)).toEqual([429, 429]);
  });

  it.each([
    [{ username: '', email: 'a@example.com', password: 'long enough pw' }, 'username', 'Use at least 3 characters'],
    [{ username: 'ab', email: 'a@example.com', password: 'long enough pw' }, 'username', 'Use at least 3 characters'],
    [
      { username: 'x'.repeat(33), email: 'a@example.com', password: 'long enough pw' },
      'username',
      'Use at most 32 characters',
    ],
    [{ username: 'bad name!', email: 'a@example.com', password: 'long enough pw' }, 'username', 'Use only letters'],
    [{ username: '<b>mark</b>', email: 'a@example.com', password: 'long enough pw' }, 'username', 'Use only letters'],
    [{ username: 'okname', email: 'not-an-email', password: 'long enough pw' }, 'email', 'Enter a valid email address'],
    [{ username: 'okname', email: 'a@example.com', password: 'short' }, 'password', 'Use at least 10 characters'],
  ])('refuses %j with a 4xx and the message beside the field, writing nothing', async (form, fieldName, message) => {
    const before = await system.world.store.lastSeq();
    const browser = webClient(system.app);
    await browser.get('/register');
    const res = await browser.post('/register', form);
    expect(res.status).toBe(422);
    expect(res.body).toMatch(new RegExp(`id="f-${fieldName}-error">${message}`));
    expect(res.body).not.toContain('<b>mark</b>');
    expect(await system.world.store.lastSeq()).toBe(before);
  });

  it('refuses a state change without the right CSRF token', async () => {
    const before = await system.world.store.lastSeq();
    const browser = webClient(system.app);
    await browser.get('/register');
    const missing = await browser.postRaw('/register', {
      username: 'csrfless',
      email: 'c@example.com',
      password: 'long enough pw',
    });
    const wrong = await browser.postRaw('/register', {
      _csrf: 'forged',
      username: 'csrfless',
      email: 'c@example.com',
      password: 'long enough pw',
    });
    expect(missing.status).toBe(403);
    expect(wrong.status).toBe(403);
    expect(wrong.body).not.toMatch(/at .*\.ts:\d+/);
    expect(await system.world.store.lastSeq()).toBe(before);
  });

  it('answers a taken username beside the field', async () => {
    await registerAndVerify('taken');
    const browser = webClient(system.app);
    await browser.get('/register');
    const res = await browser.post('/register', {
      username: 'TAKEN',
      email: 'x@example.com',
      password: 'long enough pw',
    });
    expect(res.status).toBe(422);
    expect(res.body).toContain('id="f-username-error">That username is taken');
  });

  it('resets a forgotten password with a single-use link and ends every session', async () => {
    const browser = await registerAndVerify('forgetful');
    await browser.get('/login');
    expect((await browser.post('/login', { username: 'forgetful', password: 'correct horse battery' })).status).toBe(
      303,
    );

    const other = webClient(system.app);
    await other.get('/password/forgot');
    const asked = await other.post('/password/forgot', { email: 'forgetful@example.com' });
    const unknown = await other.post('/password/forgot', { email: 'nobody@example.com' });
    expect(asked.status).toBe(200);
    const withoutTokens = (body: string) =>
      body.replace(/value="[^"]*"/g, '').replace(/hx-headers:inherited='[^']*'/g, '');
    expect(withoutTokens(unknown.body)).toBe(withoutTokens(asked.body));

    const token = await linkFor('forgetful', 'reset');
    await other.get(`/password/reset?token=${token}`);
    expect((await other.post('/password/reset', { token, password: 'a brand new password' })).status).toBe(200);
    expect((await other.post('/password/reset', { token, password: 'another new password' })).status).toBe(410);

    expect((await browser.get('/alerts')).status).not.toBe(200);
    await other.get('/login');
    expect((await other.post('/login', { username: 'forgetful', password: 'correct horse battery' })).status).toBe(401);
    expect((await other.post('/login', { username: 'forgetful', password: 'a brand new password' })).status).toBe(303);
  });

  it('answers forgot-password and resend before their work is done, so the answer cannot wait on whether the account exists', async () => {
    await registerAndVerify('unhurried');
    expect(
      await system.send('RequestRegistration', {
        username: 'unhurried-pending',
        email: 'pending@example.com',
        password: 'a long password 7',
      }),
    ).toMatchObject({ ok: true });
    // A web instance whose commands are held until released: an answer that waited for them would never come.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const sent: string[] = [];
    const holdingSend = (async (name, payload, options) => {
      sent.push(name);
      await held;
      return system.send(name, payload, options);
    }) as SendCommand;
    const app = await system.anotherWeb({
      send: holdingSend,
    });
    try {
      const browser = webClient(app, { ip: '10.3.0.1' });
      const notWithin = (ms: number) =>
        new Promise<'no answer'>((resolve) => setTimeout(() => resolve('no answer'), ms));
      await browser.get('/password/forgot');
      const asked = await Promise.race([
        browser.post('/password/forgot', { email: 'unhurried@example.com' }),
        notWithin(3_000),
      ]);
      expect(asked === 'no answer' ? asked : asked.status).toBe(200);
      await browser.get('/register/resend');
      const resent = await Promise.race([
        browser.post('/register/resend', { username: 'unhurried-pending' }),
        notWithin(3_000),
      ]);
      expect(resent === 'no answer' ? resent : resent.status).toBe(200);
      // The work went on after the answers, and is done once released.
      // In either order: the reset first looks the address up, the resend does not.
      await vi.waitFor(() => expect([...sent].sort()).toEqual(['RequestPasswordReset', 'ResendVerification']));
      expect(await linksIssued('unhurried', 'reset')).toHaveLength(0);
    } finally {
      release();
      await app.close();
    }
    // Closing the app waited for the work in flight.
    expect(await linksIssued('unhurried', 'reset')).toHaveLength(1);
    expect(await linksIssued('unhurried-pending', 'verify')).toHaveLength(2);
  });

  it('says at once that nothing can be sent while NATS is down, for any address, rather than promise an email', async () => {
    const app = await system.anotherWeb({
      natsIsConnected: () => false,
    });
    try {
      for (const [path, form] of [
        ['/password/forgot', { email: 'forgetful@example.com' }],
        ['/password/forgot', { email: 'nobody@example.com' }],
        ['/register/resend', { username: 'nobody' }],
      ] as const) {
        const browser = webClient(app, { ip: '10.3.0.2' });
        await browser.get(path);
        const res = await browser.post(path, form);
        expect(res.status).toBe(503);
        expect(res.body).toContain('Temporarily unavailable');
      }
      // Asked by htmx, the refusal is a whole page: htmx is told to put it in place of the page, not of the form.
      const htmx = webClient(app, { ip: '10.3.0.3', htmx: true });
      await htmx.get('/password/forgot');
      const res = await htmx.post('/password/forgot', { email: 'forgetful@example.com' });
      expect(res.status).toBe(503);
      expect(res.headers['hx-retarget']).toBe('body');
      expect(res.headers['hx-reswap']).toBe('innerHTML');
      expect(res.body).toContain('<h1>Temporarily unavailable</h1>');
    } finally {
      await app.close();
    }
  });

  it('serves htmx from our own origin under a strict CSP', async () => {
    const res = await system.app.inject({ url: '/login' });
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(res.headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(res.body).toContain('<script src="/assets/htmx.min.js" defer></script>');
    expect(res.body).not.toMatch(/<script>|<script [^s]/);
    const htmx = await system.app.inject({ url: '/assets/htmx.min.js' });
    expect(htmx.statusCode).toBe(200);
    expect(htmx.body).toContain('htmx');
  });

  it('names an icon that browsers keep for a year, and answers /favicon.ico too', async () => {
    const page = await system.app.inject({ url: '/login' });
    const href = /<link rel="icon" href="(\/assets\/favicon\.[0-9a-f]{12}\.svg)" type="image\/svg\+xml">/.exec(
      page.body,
    )?.[1];
    expect(href).toBeDefined();
    const icon = await system.app.inject({ url: href! });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['content-type']).toBe('image/svg+xml');
    expect(icon.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(icon.body).toMatch(/^<svg /);
    const fallback = await system.app.inject({ url: '/favicon.ico' });
    expect(fallback.statusCode).toBe(200);
    expect(fallback.body).toBe(icon.body);
  });
});
