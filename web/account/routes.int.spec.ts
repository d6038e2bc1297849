import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { subjects, type DomainEvent } from '../../events/index.ts';
import { rateLimitDefaults } from '../../platform/rateLimits.ts';
import { tablesIn } from '../../platform/postgres.ts';
import { projectedRun } from '../../test/runs.ts';
import { startTestSystem, type TestSystem } from '../../test/system.ts';
import { registeredBrowser } from '../../test/testUsers.ts';
import { webClient, type WebClient } from '../../test/webClient.ts';
import { testUserId } from '../../test/personalKeys.ts';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a brand new password';
const plenty = { max: 10_000, timeWindowMs: 60_000 };
// Per account: a login and a password change's current password share it (web/shared/limiter.ts, passwordGuesses).
const GUESSES_PER_ACCOUNT = 8;

let system: TestSystem;
beforeAll(async () => {
  system = await startTestSystem({
    web: {
      rateLimits: {
        registerPerClient: plenty,
        loginPerClient: plenty,
        loginPerUsername: { max: GUESSES_PER_ACCOUNT, timeWindowMs: 60_000 },
      },
    },
  });
});
afterAll(async () => system?.close());

/** Another session of the user: another browser that logs in (and follows the redirect, for its CSRF token). */
async function logIn(username: string, password = PASSWORD): Promise<WebClient> {
  const browser = webClient(system.app);
  await browser.get('/login');
  const login = await browser.post('/login', { username, password });
  expect(login.status).toBe(303);
  await browser.get(login.location!);
  return browser;
}

/** The same browser, now with htmx: its cookies, and the CSRF token of the account page it loads. */
async function withHtmx(browser: WebClient): Promise<WebClient> {
  const htmx = webClient(system.app, { htmx: true });
  for (const [name, value] of browser.jar) htmx.setCookie(name, value);
  await htmx.get('/account');
  return htmx;
}

/** The session id of a browser's cookie (the JWT's `sid`). */
const sessionOf = (browser: WebClient) =>
  (JSON.parse(Buffer.from(browser.cookie('cra_session')!.split('.')[1]!, 'base64url').toString()) as { sid: string })
    .sid;

const userSubject = (username: string) => subjects.user(system.world.ns, testUserId(username));
const userEvents = async (username: string): Promise<DomainEvent[]> =>
  (await system.world.store.load(userSubject(username))).history.flatMap((h) => h.events);
const lastUserSeq = (username: string) => system.world.store.lastSeqOf(userSubject(username));

const loggedInAs = async (browser: WebClient) => {
  const res = await browser.get('/account');
  return res.status === 200 ? res : undefined;
};
const sectionOrder = (body: string) => [...body.matchAll(/<h2 id="[^"]+">([^<]+)<\/h2>/g)].map((m) => m[1]);
const fieldError = (body: string, field: string) =>
  new RegExp(`id="f-${field}-error">([^<]*)<`).exec(body)?.[1] ?? undefined;

describe('the account page', () => {
  it('is behind login, linked from the header, with its sections and this session marked', async () => {
    const guest = await webClient(system.app).get('/account');
    expect(guest.status).toBe(303);
    expect(guest.location).toBe('/login?next=%2Faccount');

    const { browser } = await registeredBrowser(system, 'paula', PASSWORD);
    const alone = await browser.get('/account');
    expect(alone.status).toBe(200);
    expect(alone.body).toContain('<a href="/account">Account</a>');
    expect(sectionOrder(alone.body)).toEqual([
      'Email address',
      'Password',
      'Sessions',
      'Channels',
      'Your data',
      'Delete your account',
    ]);
    expect(alone.body.match(/<tr[ >]/g)).toHaveLength(2); // the header row and this session
    expect(alone.body).toContain('<tr class="current">');
    expect(alone.body).toContain('<strong>This session</strong>');
    expect(alone.body).toContain('No other session is open.');
    expect(alone.body).not.toContain('Log out everywhere else');
    expect(alone.body).toContain('href="/account/export"');

    await logIn('paula');
    const two = await browser.get('/account');
    expect(two.body.match(/<tr[ >]/g)).toHaveLength(3);
    expect(two.body.match(/This session/g)).toHaveLength(1);
    // This session is listed first, whatever the order they were opened in.
    expect(two.body.indexOf('<tr class="current">')).toBeLessThan(two.body.indexOf('<tr><td'));
    expect(two.body).toContain('Log out everywhere else');
  });
});

describe('changing the password', () => {
  it('ends every other session and keeps this one; an ended session’s old cookie is refused', async () => {
    const { browser: here, userId } = await registeredBrowser(system, 'quinn', PASSWORD);
    const phone = await logIn('quinn');
    const laptop = await logIn('quinn');
    const phoneCookie = phone.cookie('cra_session')!;
    await here.get('/account');

    const changed = await here.post('/account/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(changed.status).toBe(200);
    expect(changed.body).toContain('Your password was changed. Every other session was logged out');

    const recorded = (await userEvents('quinn')).flatMap((e) => (e.type === 'PasswordChanged' ? [e.data] : []));
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ userId, keptSessionId: sessionOf(here) });
    expect([...recorded[0]!.endedSessionIds].sort()).toEqual([sessionOf(phone), sessionOf(laptop)].sort());

    // This session goes on, alone on its page; the others are logged out, on every page and for every form.
    const page = await loggedInAs(here);
    expect(page?.body.match(/<tr[ >]/g)).toHaveLength(2);
    expect(await loggedInAs(phone)).toBeUndefined();
    expect(await loggedInAs(laptop)).toBeUndefined();
    const replayed = webClient(system.app);
    replayed.setCookie('cra_session', phoneCookie);
    expect((await replayed.get('/alerts')).status).toBe(303);
    const before = await lastUserSeq('quinn');
    // Its forms' tokens were its session's, which is over: refused as a forged token is, before any command.
    const fromEnded = await phone.post('/account/password', { currentPassword: NEW_PASSWORD, newPassword: PASSWORD });
    expect(fromEnded.status).toBe(403);
    expect((await phone.post('/account/sessions/end-others')).status).toBe(403);
    expect(await lastUserSeq('quinn')).toBe(before);

    const guest = webClient(system.app);
    await guest.get('/login');
    expect((await guest.post('/login', { username: 'quinn', password: PASSWORD })).status).toBe(401);
    expect((await guest.post('/login', { username: 'quinn', password: NEW_PASSWORD })).status).toBe(303);
    expect((await here.get('/activity')).body).toContain('Changed the password; every other session was ended');
  });

  it('refuses a wrong current password beside its field, and a weak new one beside its own, changing nothing', async () => {
    const { browser } = await registeredBrowser(system, 'rosa', PASSWORD);
    const other = await logIn('rosa');
    await browser.get('/account');
    const before = await lastUserSeq('rosa');

    const wrong = await browser.post('/account/password', {
      currentPassword: 'not the password',
      newPassword: NEW_PASSWORD,
    });
    expect(wrong.status).toBe(422);
    expect(fieldError(wrong.body, 'currentPassword')).toBe('That is not your current password');
    expect(wrong.body).toContain('aria-describedby="f-currentPassword-error"');
    // Passwords are never typed back into the form.
    expect(wrong.body).not.toContain(NEW_PASSWORD);
    expect(wrong.body).not.toContain('not the password');

    const weak = await browser.post('/account/password', { currentPassword: PASSWORD, newPassword: 'short' });
    expect(weak.status).toBe(422);
    expect(fieldError(weak.body, 'newPassword')).toBe('Use at least 10 characters');
    const empty = await browser.post('/account/password', {});
    expect(empty.status).toBe(422);
    expect(fieldError(empty.body, 'currentPassword')).toBeDefined();

    // htmx gets the section alone, to put in place of the one it came from.
    const htmx = await withHtmx(browser);
    const fragment = await htmx.post('/account/password', {
      currentPassword: 'still wrong!',
      newPassword: NEW_PASSWORD,
    });
    expect(fragment.status).toBe(422);
    expect(fragment.body).toMatch(/^<section id="password"/);
    expect(fragment.body).not.toContain('<html');
    expect(fieldError(fragment.body, 'currentPassword')).toBe('That is not your current password');

    expect(await lastUserSeq('rosa')).toBe(before);
    expect(await loggedInAs(other)).toBeDefined();
  });

  it('answers the same change sent twice as done, rather than as a wrong current password', async () => {
    const { browser } = await registeredBrowser(system, 'sven', PASSWORD);
    await browser.get('/account');
    const form = { currentPassword: PASSWORD, newPassword: NEW_PASSWORD };
    expect((await browser.post('/account/password', form)).status).toBe(200);
    const seq = await lastUserSeq('sven');
    const again = await browser.post('/account/password', form);
    expect(again.status).toBe(200);
    expect(again.body).toContain('Your password was changed.');
    expect(await lastUserSeq('sven')).toBe(seq);
  });

  it('counts wrong current passwords against the account’s login budget, with a 429 beside the form', async () => {
    const { browser } = await registeredBrowser(system, 'tomas', PASSWORD); // one login: one of the budget
    await browser.get('/account');
    const statuses: number[] = [];
    for (let i = 1; i <= GUESSES_PER_ACCOUNT; i++) {
      const res = await browser.post('/account/password', {
        currentPassword: `guess number ${i}`,
        newPassword: NEW_PASSWORD,
      });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.body).toContain('<p class="form-error" role="alert">Too many attempts.');
        expect(res.headers['retry-after']).toBeDefined();
      }
    }
    expect(statuses).toEqual([...Array<number>(GUESSES_PER_ACCOUNT - 1).fill(422), 429]);
    // The same budget as the login form's: guessing here leaves no more guesses there.
    const guest = webClient(system.app);
    await guest.get('/login');
    expect((await guest.post('/login', { username: 'tomas', password: PASSWORD })).status).toBe(429);
  });
});

describe('logging out everywhere else', () => {
  it('ends every other session and keeps this one; once alone it records nothing', async () => {
    const { browser: here, userId } = await registeredBrowser(system, 'ulla', PASSWORD);
    const other = await logIn('ulla');
    const otherCookie = other.cookie('cra_session')!;
    const page = await here.get('/account');
    expect(page.body).toContain('Log out everywhere else');

    const ended = await here.post('/account/sessions/end-others');
    expect(ended.status).toBe(200);
    expect(ended.body).toContain('Every other session was logged out; this one stays logged in.');
    expect(ended.body).toContain('No other session is open.');
    expect((await userEvents('ulla')).filter((e) => e.type === 'SessionsEnded')).toEqual([
      { type: 'SessionsEnded', data: { userId, sessionIds: [sessionOf(other)], keptSessionId: sessionOf(here) } },
    ]);
    expect(await loggedInAs(other)).toBeUndefined();
    const replayed = webClient(system.app);
    replayed.setCookie('cra_session', otherCookie);
    expect((await replayed.get('/account')).status).toBe(303);
    expect(await loggedInAs(here)).toBeDefined();

    const seq = await lastUserSeq('ulla');
    expect((await here.post('/account/sessions/end-others')).status).toBe(200);
    expect(await lastUserSeq('ulla')).toBe(seq);
    expect((await here.get('/activity')).body).toContain('Logged out everywhere else');
  });

  it('answers htmx with the sessions section alone', async () => {
    const { browser } = await registeredBrowser(system, 'vera', PASSWORD);
    await logIn('vera');
    const res = await (await withHtmx(browser)).post('/account/sessions/end-others');
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/^<section id="sessions"/);
    expect(res.body).toContain('No other session is open.');
  });
});

describe('the forms refuse a missing or wrong CSRF token', () => {
  it.each([
    ['/account/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }],
    ['/account/sessions/end-others', {}],
  ])('%s', async (url, form) => {
    const username = `csrf${url.length}`;
    const { browser } = await registeredBrowser(system, username, PASSWORD);
    const other = await logIn(username);
    await browser.get('/account');
    const before = await lastUserSeq(username);
    const missing = await browser.postRaw(url, form);
    const wrong = await browser.postRaw(url, { _csrf: 'forged', ...form });
    // A genuine token of another session (the same user's) is no token for this one.
    const othersToken = await browser.postRaw(url, { _csrf: other.csrf(), ...form });
    for (const res of [missing, wrong, othersToken]) {
      expect(res.status).toBe(403);
      expect(res.body).toContain('Form expired');
    }
    expect(await lastUserSeq(username)).toBe(before);
    expect(await loggedInAs(other)).toBeDefined();
  });
});

describe('the data export', () => {
  /** A registered user with two alerts (one deleted), both set before the two runs that cross the live one. */
  async function userWithAlerts(username: string, thresholds: [string, string]) {
    const { browser, userId } = await registeredBrowser(system, username, PASSWORD);
    const alertIds = [`${username}Kept`, `${username}Gone`];
    for (const [i, alertId] of alertIds.entries()) {
      const set = await system.send('SetAlert', {
        userId,
        alertId,
        base: 'EUR',
        quote: i === 0 ? 'USD' : 'JPY',
        threshold: thresholds[i]!,
      });
      expect(set.ok).toBe(true);
    }
    expect((await system.send('DeleteAlert', { userId, alertId: alertIds[1]! })).ok).toBe(true);
    return { browser, userId, alertIds };
  }

  /** Emails the notifier recorded for a user, by kind. */
  const emailsSent = async (userId: string) =>
    (
      await system.world.pool.query<{ kind: string }>(
        `SELECT kind FROM ${tablesIn(system.world.schema)('emails_sent')} WHERE user_id = $1`,
        [userId],
      )
    ).rows.map((r) => r.kind);

  it('holds exactly the user’s account, alerts, triggers and own events, and nobody else’s', async () => {
    await projectedRun(system.world, '2026-11-01', { USD: '1.0700', JPY: '160.0' });
    const wanda = await userWithAlerts('wanda', ['1.0800', '161']);
    const xaver = await userWithAlerts('xaver', ['1.0900', '162']);
    await logIn('wanda');
    await projectedRun(system.world, '2026-11-02', { USD: '1.0950', JPY: '163.0' });
    await vi.waitFor(
      async () => {
        for (const { userId } of [wanda, xaver])
          expect((await emailsSent(userId)).sort()).toEqual(['alert-digest', 'verification']);
      },
      { timeout: 20_000, interval: 100 },
    );

    const res = await wanda.browser.get('/account/export');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    const today = new Date().toISOString().slice(0, 10);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="cra-data-wanda-${today}.json"`);
    const exported = JSON.parse(res.body) as {
      account: Record<string, unknown>;
      alerts: { alertId: string; pair: string; deleted: boolean; deletedAt: string | null }[];
      triggers: { alertId: string; direction: string }[];
      events: { seq: number; time: string; type: string; data: Record<string, unknown> }[];
    };

    expect(exported.account).toMatchObject({
      userId: wanda.userId,
      username: 'wanda',
      email: 'wanda@example.test',
      status: 'registered',
      alertEmailsPaused: false,
    });
    expect(Date.parse(exported.account.registeredAt as string)).not.toBeNaN();
    expect(exported.alerts).toEqual([
      expect.objectContaining({ alertId: 'wandaKept', pair: 'EUR/USD', deleted: false, deletedAt: null }),
      expect.objectContaining({ alertId: 'wandaGone', pair: 'EUR/JPY', deleted: true }),
    ]);
    expect(exported.triggers).toEqual([expect.objectContaining({ alertId: 'wandaKept', direction: 'up' })]);

    const types = exported.events.map((e) => e.type);
    for (const type of [
      'RegistrationRequested',
      'UserRegistered',
      'UserLoggedIn',
      'AlertSet',
      'AlertDeleted',
      'AlertTriggered',
      'EmailClaimed',
      'EmailSent',
    ])
      expect(types, type).toContain(type);
    expect(types.filter((t) => t === 'UserLoggedIn')).toHaveLength(2);
    expect(exported.events.filter((e) => e.type === 'EmailSent').map((e) => e.data.kind)).toEqual([
      'verification',
      'alert-digest',
    ]);
    // In log order, each with its time, and every one about this user.
    expect(exported.events.map((e) => e.seq)).toEqual(exported.events.map((e) => e.seq).sort((a, b) => a - b));
    for (const e of exported.events) {
      expect(e.data.userId, e.type).toBe(wanda.userId);
      expect(Date.parse(e.time), e.type).not.toBeNaN();
    }
    // Secrets of signing in are withheld, and said to be.
    const registration = exported.events.find((e) => e.type === 'RegistrationRequested')!;
    expect(registration.data).toMatchObject({
      passwordHash: 'withheld',
      tokenHash: 'withheld',
      email: 'wanda@example.test',
    });
    expect(res.body).not.toContain('$argon2id$');

    // Nothing of the other user: not their name, address, id or alerts.
    for (const theirs of ['xaver', xaver.userId, ...xaver.alertIds]) expect(res.body).not.toContain(theirs);
  }, 60_000);

  it('takes no user id: whatever the address says, it is the session’s own data', async () => {
    const { browser } = await registeredBrowser(system, 'yusuf', PASSWORD);
    const zoeId = testUserId('zoe');
    await registeredBrowser(system, 'zoe', PASSWORD);
    for (const url of [
      `/account/export?userId=${zoeId}`,
      '/account/export?username=zoe&user=zoe&id=zoe',
      `/account/export?userId[]=${zoeId}`,
    ]) {
      const res = await browser.get(url);
      expect(res.status, url).toBe(200);
      expect(JSON.parse(res.body).account.username, url).toBe('yusuf');
      expect(res.body, url).not.toContain(zoeId);
      expect(res.body, url).not.toContain('"zoe"');
      expect(res.body, url).not.toContain('zoe@example.test');
    }
    for (const url of [`/account/export/${zoeId}`, '/account/zoe/export', `/account/${zoeId}`])
      expect((await browser.get(url)).status, url).toBe(404);
    // The routes there are: none has a parameter in its path, and none reads one from anywhere but the session.
    const routes = system.app.printRoutes({ commonPrefix: false });
    const account = routes.slice(routes.indexOf('account'), routes.indexOf('activity'));
    expect(account.split('\n').map((line) => line.replace(/^[\s│├└─]+/, ''))).toEqual([
      'account (GET, HEAD)',
      '/password (POST)',
      '/sessions/end-others (POST)',
      '/export (GET, HEAD)',
      '/email (GET, HEAD, POST)',
      '/confirm (GET, HEAD)',
      '/delete (GET, HEAD, POST)',
      'd (GET, HEAD)', // /account/deleted, printed under /delete
      '',
    ]);
  });

  it("is limited per account (each reads the person's whole history): past the limit a 429, other accounts unaffected", async () => {
    const { browser } = await registeredBrowser(system, 'xavi', PASSWORD);
    const { max } = rateLimitDefaults.exportsPerAccount;
    for (let i = 0; i < max; i++) expect((await browser.get('/account/export')).status).toBe(200);
    const refused = await browser.get('/account/export');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.body).toMatch(/Too many attempts/);
    const { browser: other } = await registeredBrowser(system, 'walburga', PASSWORD);
    expect((await other.get('/account/export')).status).toBe(200);
  });

  it('sends a guest to log in first', async () => {
    const guest = await webClient(system.app).get('/account/export');
    expect(guest.status).toBe(303);
    expect(guest.location).toBe('/login?next=%2Faccount%2Fexport');
    expect(guest.body).not.toContain('"events"');
  });
});
