import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjects } from '../../events/index.ts';
import { expectNoSecretsIn, logText, readLog } from '../faults/support/invariants.ts';
import { startTestSystem, TEST_SECRET, type TestSystem } from '../system.ts';
import { webClient, type WebClient, type WebResponse } from '../webClient.ts';
import { registeredBrowser, registeredUser } from '../testUsers.ts';
import { projectedRun } from '../runs.ts';
import { expectMarkupEscaped } from './hostileInput.ts';
import { testUserId } from '../personalKeys.ts';

// Session attacks and account enumeration, against the default rate limits.
let system: TestSystem;
let ann: { browser: WebClient; userId: string };
let bob: { browser: WebClient; userId: string };
const secrets = new Set<string>([TEST_SECRET]);
const password = (who: string) => {
  const p = `${who} has a long password`;
  secrets.add(p);
  return p;
};

beforeAll(async () => {
  system = await startTestSystem();
  ann = await registeredBrowser(system, 'ann-target', password('ann'), { ip: '10.1.0.1' });
  bob = await registeredBrowser(system, 'bob-attacker', password('bob'), { ip: '10.1.0.2' });
  await projectedRun(system.world, '2026-11-02', { USD: '1.08', JPY: '163.4' });
  expect(
    (
      await system.send('SetAlert', {
        userId: ann.userId,
        alertId: 'annsAlert',
        base: 'EUR',
        quote: 'USD',
        threshold: '1.2345',
      })
    ).ok,
  ).toBe(true);
  secrets.add(ann.browser.cookie('cra_session')!);
  secrets.add(bob.browser.cookie('cra_session')!);
  // The notifier's own writes (each verification email's claim and record) are done before any attack counts writes.
  await system.smtp.waitFor((emails) => emails.length >= 2);
  let last = -1;
  while (last !== (last = await system.world.store.lastSeq())) await new Promise((r) => setTimeout(r, 300));
}, 60_000);

afterAll(async () => system?.close());

const b64url = (value: object | string) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
function jwt(claims: object, options: { secret?: string; alg?: string } = {}): string {
  const head = b64url({ alg: options.alg ?? 'HS256', typ: 'JWT' });
  const body = b64url(claims);
  if (options.alg === 'none') return `${head}.${body}.`;
  return `${head}.${body}.${createHmac('sha256', options.secret ?? TEST_SECRET)
    .update(`${head}.${body}`)
    .digest('base64url')}`;
}
const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
    sub: string;
    sid: string;
    name: string;
    iat: number;
    exp: number;
  };

/** A browser holding `cookie` as its session: it must be treated as a guest, and nothing it asks may write. */
async function expectTreatedAsGuest(cookie: string, what: string) {
  const intruder = webClient(system.app, { ip: '10.66.0.1' });
  await intruder.get('/login'); // a CSRF token of its own, so the refusal is about the session
  intruder.setCookie('cra_session', cookie);
  const before = await system.world.store.lastSeq();
  const page = await intruder.get('/alerts');
  expect(page.status, what).toBe(303);
  expect(page.location, what).toMatch(/^\/login/);
  expect((await intruder.post('/alerts', { base: 'EUR', quote: 'USD', threshold: '1.5' })).status, what).toBe(401);
  expect((await intruder.post('/alerts/annsAlert/delete', { confirm: 'yes' })).status, what).toBe(401);
  expect((await intruder.delete('/alerts/annsAlert', { 'x-csrf-token': intruder.csrf() })).status, what).toBe(401);
  expect((await intruder.get('/activity')).status, what).toBe(303);
  expect(await system.world.store.lastSeq(), `${what} wrote to the log`).toBe(before);
}

/** Two answers are the same to an observer once what differs by design (CSRF tokens, the typed value) is masked. */
function sameAnswer(a: WebResponse, b: WebResponse, typed: [string, string]) {
  const mask = (r: WebResponse, value: string) =>
    r.body
      .replace(/name="_csrf" value="[^"]+"/g, 'name="_csrf" value="…"')
      .replace(/x-csrf-token&quot;:&quot;[^&]+&quot;/g, 'x-csrf-token&quot;:&quot;…&quot;')
      .replaceAll(value || '\u0000', '«typed»')
      .replaceAll(value.toLowerCase() || '\u0000', '«typed»');
  expect(a.status).toBe(b.status);
  expect(mask(a, typed[0])).toBe(mask(b, typed[1]));
}

describe('session attacks', () => {
  it('a correctly made token for an open session is accepted (so the refusals below are about what was changed)', async () => {
    const real = claimsOf(ann.browser.cookie('cra_session')!);
    const forged = webClient(system.app, { ip: '10.66.0.2' });
    forged.setCookie('cra_session', jwt({ ...real, iat: Math.floor(Date.now() / 1000) }));
    expect((await forged.get('/alerts')).status).toBe(200);
  });

  it('a tampered, expired, wrongly signed, unsigned or mismatched token is treated as no session', async () => {
    const real = ann.browser.cookie('cra_session')!;
    const claims = claimsOf(real);
    const now = Math.floor(Date.now() / 1000);
    const [head, , signature] = real.split('.');
    const attacks: [string, string][] = [
      ['a payload changed under the same signature', `${head}.${b64url({ ...claims, sub: bob.userId })}.${signature}`],
      ['a signature changed', `${real.slice(0, -4)}${real.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`],
      ['an expired token', jwt({ ...claims, iat: now - 8 * 86_400, exp: now - 86_400 })],
      [
        'a token signed with another secret',
        jwt({ ...claims, iat: now }, { secret: 'another secret that is long enough!!' }),
      ],
      ['an unsigned token (alg none)', jwt({ ...claims, iat: now }, { alg: 'none' })],
      [
        "a token naming another user's session",
        jwt({ sub: bob.userId, sid: claims.sid, name: 'bob-attacker', iat: now }),
      ],
      ['a token for a session that never existed', jwt({ ...claims, sid: randomUUID(), iat: now })],
      ['garbage', 'not.a.jwt'],
      ['an empty cookie', ''],
    ];
    for (const [what, token] of attacks) await expectTreatedAsGuest(token, what);
  });

  it('a session cookie replayed after logout is refused', async () => {
    const carol = await registeredBrowser(system, 'carol-leaves', password('carol'), { ip: '10.1.0.3' });
    const cookie = carol.browser.cookie('cra_session')!;
    secrets.add(cookie);
    await carol.browser.get('/alerts');
    expect((await carol.browser.post('/logout')).status).toBe(303);
    expect(carol.browser.cookie('cra_session')).toBeUndefined();
    await expectTreatedAsGuest(cookie, 'a cookie after logout');
  });

  it('a missing or wrong CSRF token is refused with a clear 403 and writes nothing', async () => {
    const other = webClient(system.app, { ip: '10.66.0.3' });
    await other.get('/register');
    await ann.browser.get('/alerts');
    const attempts: [string, () => Promise<WebResponse>][] = [
      ['no token', () => ann.browser.postRaw('/alerts', { base: 'EUR', quote: 'USD', threshold: '1.5' })],
      [
        'a made-up token',
        () => ann.browser.postRaw('/alerts', { _csrf: 'x'.repeat(52), base: 'EUR', quote: 'USD', threshold: '1.5' }),
      ],
      [
        "another browser's token",
        () => ann.browser.postRaw('/alerts', { _csrf: other.csrf(), base: 'EUR', quote: 'USD', threshold: '1.5' }),
      ],
      [
        'a wrong htmx header',
        () => ann.browser.delete('/alerts/annsAlert', { 'hx-request': 'true', 'x-csrf-token': other.csrf() }),
      ],
      ['no token to log out', () => ann.browser.postRaw('/logout', {})],
      ['no token to pause emails', () => ann.browser.postRaw('/alerts/emails', { paused: 'yes' })],
    ];
    for (const [what, send] of attempts) {
      const before = await system.world.store.lastSeq();
      const res = await send();
      expect(res.status, what).toBe(403);
      expect(res.body, what).toMatch(/Form expired/);
      expect(await system.world.store.lastSeq(), `${what} wrote to the log`).toBe(before);
    }
    // The CSRF cookie gone, the token alone is not enough either.
    const token = ann.browser.csrf();
    const cookieless = webClient(system.app, { ip: '10.66.0.4' });
    cookieless.setCookie('cra_session', ann.browser.cookie('cra_session')!);
    expect(
      (await cookieless.postRaw('/alerts', { _csrf: token, base: 'EUR', quote: 'USD', threshold: '1.5' })).status,
    ).toBe(403);
    // Ann is still logged in: the refused logout did nothing.
    expect((await ann.browser.get('/alerts')).status).toBe(200);
  });

  it('a CSRF token and cookie from before a login are refused after it, and those of a session after its logout', async () => {
    await registeredUser(system, 'pia-planted', password('pia'));
    const browser = webClient(system.app, { ip: '10.66.1.1' });
    await browser.get('/login');
    // What an attacker could have planted in the browser before the login (a tossed cookie and its token).
    const planted = { token: browser.csrf(), cookie: browser.cookie('_csrf')! };
    expect((await browser.post('/login', { username: 'pia-planted', password: password('pia') })).status).toBe(303);
    expect(browser.cookie('_csrf'), 'the login drops the old CSRF secret').toBeUndefined();
    browser.setCookie('_csrf', planted.cookie);
    const before = await system.world.store.lastSeq();
    for (const attempt of [
      () => browser.postRaw('/logout', { _csrf: planted.token }),
      () => browser.delete('/alerts/annsAlert', { 'x-csrf-token': planted.token }),
    ]) {
      const res = await attempt();
      expect(res.status).toBe(403);
      expect(res.body).toMatch(/Form expired/);
    }
    expect(await system.world.store.lastSeq()).toBe(before);
    // The session's own page has a token that works; once logged out, that token is refused in turn.
    await browser.get('/alerts');
    const sessionToken = { token: browser.csrf(), cookie: browser.cookie('_csrf')! };
    expect((await browser.post('/logout')).status).toBe(303);
    expect(browser.cookie('_csrf'), 'the logout drops the CSRF secret').toBeUndefined();
    browser.setCookie('_csrf', sessionToken.cookie);
    expect(
      (
        await browser.postRaw('/login', {
          _csrf: sessionToken.token,
          username: 'pia-planted',
          password: password('pia'),
        })
      ).status,
    ).toBe(403);
  });

  it("a CSRF token and cookie from one user's session are refused in another's", async () => {
    const quinn = await registeredBrowser(system, 'quinn-csrf', password('quinn'), { ip: '10.66.2.1' });
    const rory = await registeredBrowser(system, 'rory-csrf', password('rory'), { ip: '10.66.2.2' });
    rory.browser.setCookie('_csrf', quinn.browser.cookie('_csrf')!);
    const before = await system.world.store.lastSeq();
    expect((await rory.browser.postRaw('/logout', { _csrf: quinn.browser.csrf() })).status).toBe(403);
    expect((await rory.browser.postRaw('/alerts/emails', { _csrf: quinn.browser.csrf(), paused: 'yes' })).status).toBe(
      403,
    );
    expect(await system.world.store.lastSeq()).toBe(before);
    expect((await rory.browser.get('/alerts')).status).toBe(200);
    // Quinn's pair still works for Quinn: it is the session that differs.
    expect((await quinn.browser.post('/logout')).status).toBe(303);
  });

  it("another user's alert id: not found, not shown, not deleted", async () => {
    await bob.browser.get('/alerts');
    const before = await system.world.store.lastSeq();
    const answers = [
      await bob.browser.post('/alerts/annsAlert/delete'),
      await bob.browser.post('/alerts/annsAlert/delete', { confirm: 'yes' }),
      await bob.browser.delete('/alerts/annsAlert', { 'hx-request': 'true', 'x-csrf-token': bob.browser.csrf() }),
    ];
    for (const res of answers) {
      expect(res.status).toBe(404);
      expect(res.body).not.toMatch(/1\.2345|EUR\/USD/);
    }
    expect((await bob.browser.get('/alerts')).body).not.toContain('annsAlert');
    expect(await system.world.store.lastSeq()).toBe(before);
    // A form key Ann used, sent by Bob, makes Bob's own alert: it can never touch Ann's.
    await ann.browser.get('/alerts');
    expect(
      (
        await ann.browser.post('/alerts', {
          commandId: 'shared-form-key-1',
          base: 'EUR',
          quote: 'JPY',
          threshold: '160',
        })
      ).status,
    ).toBe(303);
    await bob.browser.get('/alerts');
    expect(
      (
        await bob.browser.post('/alerts', {
          commandId: 'shared-form-key-1',
          base: 'EUR',
          quote: 'JPY',
          threshold: '170',
        })
      ).status,
    ).toBe(303);
    const sets = (await readLog(system.world.store))
      .flatMap((m) => m.events)
      .filter((e) => e.type === 'AlertSet' && e.data.base === 'EUR' && e.data.quote === 'JPY');
    expect(
      sets
        .map((e) => e.type === 'AlertSet' && `${e.data.userId === ann.userId ? 'ann' : 'bob'} ${e.data.threshold}`)
        .sort(),
    ).toEqual(['ann 160', 'bob 170']);
    const deleted = (await readLog(system.world.store))
      .flatMap((m) => m.events)
      .filter((e) => e.type === 'AlertDeleted' && e.data.alertId === 'annsAlert');
    expect(deleted).toEqual([]);
  });

  it('login brute force is stopped with 429 per username, whatever the address, and per address, whatever the username', async () => {
    await registeredUser(system, 'dave-guessed', password('dave'));
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const attacker = webClient(system.app, { ip: `10.77.${i}.1` }); // a new address every time
      await attacker.get('/login');
      statuses.push(
        (await attacker.post('/login', { username: 'dave-guessed', password: `guess number ${i}` })).status,
      );
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    // Locked out, the right password gets the same answer: no oracle, no session.
    const late = webClient(system.app, { ip: '10.77.99.1' });
    await late.get('/login');
    const right = await late.post('/login', { username: 'dave-guessed', password: password('dave') });
    expect(right.status).toBe(429);
    expect(right.headers['retry-after']).toBeTruthy();
    expect(right.body).toMatch(/Too many attempts/);
    expect(late.cookie('cra_session')).toBeUndefined();

    const sprayer = webClient(system.app, { ip: '10.88.0.1' });
    await sprayer.get('/login');
    const spray: number[] = [];
    for (let i = 0; i < 21; i++)
      spray.push((await sprayer.post('/login', { username: `nobody-${i}`, password: 'password spray 1' })).status);
    expect(spray.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(spray[20]).toBe(429);
  }, 60_000);

  it('a locked username stays locked however it is spelled: padded, cased, or with a letter that lowercases to it', async () => {
    await registeredUser(system, 'kate-locked', password('kate'));
    for (let i = 0; i < 5; i++) {
      const guesser = webClient(system.app, { ip: `10.78.${i}.1` });
      await guesser.get('/login');
      expect((await guesser.post('/login', { username: 'kate-locked', password: `guess number ${i}` })).status).toBe(
        401,
      );
    }
    // Each spelling logs in as kate-locked when she is not locked (the login trims and lowercases), so each must be locked too.
    const spellings = [
      ' '.repeat(200) + 'kate-locked',
      `kate-locked${' '.repeat(200)}`,
      'KATE-LOCKED',
      '\t Kate-Locked \n',
      '\u212Aate-locked',
      '\u00A0kate-locked\u3000',
    ];
    for (const [i, username] of spellings.entries()) {
      const late = webClient(system.app, { ip: `10.78.${i}.2` });
      await late.get('/login');
      const res = await late.post('/login', { username, password: password('kate') });
      expect(res.status, JSON.stringify(username)).toBe(429);
      expect(late.cookie('cra_session'), JSON.stringify(username)).toBeUndefined();
    }
    // Padding is still a way to type a name that is not locked: the limit is about the account, not the spelling.
    await registeredUser(system, 'lena-free', password('lena'));
    const free = webClient(system.app, { ip: '10.78.99.1' });
    await free.get('/login');
    expect(
      (await free.post('/login', { username: `${' '.repeat(200)}LENA-free`, password: password('lena') })).status,
    ).toBe(303);
  }, 60_000);

  it('following emailed links is limited per client: a burst of password resets hits 429, and so do verify and unsubscribe', async () => {
    const forged = `${ann.userId}.${'A'.repeat(43)}`;
    const attacker = webClient(system.app, { ip: '10.79.0.1' });
    expect((await attacker.get(`/password/reset?token=${forged}`)).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++)
      statuses.push(
        (await attacker.post('/password/reset', { token: forged, password: `a new password ${i}` })).status,
      );
    // The default budget is 60 a minute per client, the form's GET included.
    expect(statuses.slice(0, 59)).toEqual(Array(59).fill(400));
    expect(statuses[59]).toBe(429);
    const limited = await attacker.post('/password/reset', { token: forged, password: 'one more password' });
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeTruthy();
    expect(limited.body).toMatch(/Too many attempts/);
    expect((await attacker.get(`/verify?token=${forged}`)).status).toBe(429);
    expect((await attacker.get(`/unsubscribe?token=${forged}`)).status).toBe(429);
    expect(
      (await system.app.inject({ method: 'POST', url: `/unsubscribe?token=${forged}`, remoteAddress: '10.79.0.1' }))
        .statusCode,
    ).toBe(429);
    // Another client is not held back by this one.
    const bystander = webClient(system.app, { ip: '10.79.0.2' });
    expect((await bystander.get(`/verify?token=${forged}`)).status).toBe(400);
  }, 60_000);

  it('a forged X-Forwarded-For does not buy a fresh allowance: no proxy is believed unless TRUST_PROXY names it', async () => {
    const sprayer = webClient(system.app, { ip: '10.89.0.1' });
    await sprayer.get('/login');
    const spray: number[] = [];
    for (let i = 0; i < 21; i++) {
      spray.push(
        (
          await sprayer.post(
            '/login',
            { username: `forger-${i}`, password: 'password spray 2' },
            { 'x-forwarded-for': `192.0.2.${i + 1}` },
          )
        ).status,
      );
    }
    expect(spray.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(spray[20]).toBe(429);
  }, 60_000);
});

describe('account enumeration', () => {
  it('login: an unknown user, a wrong password and an unverified account get the same answer, in about the same time', async () => {
    await system.send('RequestRegistration', {
      username: 'erin-pending',
      email: 'erin@example.test',
      password: password('erin'),
    });
    const tryLogin = async (username: string, pw: string, ip: string) => {
      const b = webClient(system.app, { ip });
      await b.get('/login');
      const started = performance.now();
      const res = await b.post('/login', { username, password: pw });
      return { res, ms: performance.now() - started };
    };
    const unknown = await tryLogin('frank-unknown', 'some password 1', '10.90.0.1');
    const wrong = await tryLogin('ann-target', 'some password 1', '10.90.0.2');
    const pending = await tryLogin('erin-pending', password('erin'), '10.90.0.3');
    expect(unknown.res.status).toBe(401);
    sameAnswer(unknown.res, wrong.res, ['frank-unknown', 'ann-target']);
    sameAnswer(unknown.res, pending.res, ['frank-unknown', 'erin-pending']);
    // The password is checked against a decoy hash for unknown users: no timing gap worth measuring.
    const times = { unknown: [] as number[], known: [] as number[] };
    for (let i = 0; i < 4; i++) {
      times.unknown.push((await tryLogin(`ghost-${i}`, 'some password 1', `10.91.${i}.1`)).ms);
      times.known.push((await tryLogin('bob-attacker', `wrong password ${i}`, `10.91.${i}.2`)).ms);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    expect(median(times.unknown) / median(times.known)).toBeGreaterThan(0.33);
    expect(median(times.unknown) / median(times.known)).toBeLessThan(3);
  }, 60_000);

  it('register: a taken username is taken whoever holds it; an email already in use is answered like a new one', async () => {
    const register = async (username: string, email: string, ip: string) => {
      const b = webClient(system.app, { ip });
      await b.get('/register');
      return b.post('/register', { username, email, password: password(`reg-${username}`) });
    };
    const takenByRegistered = await register('ann-target', 'someone@example.test', '10.92.0.1');
    const takenByPending = await register('erin-pending', 'someone@example.test', '10.92.0.2');
    expect(takenByRegistered.status).toBe(422);
    sameAnswer(takenByRegistered, takenByPending, ['ann-target', 'erin-pending']);
    const usedEmail = await register('gina-new', 'ann-target@example.test', '10.92.0.3');
    const freshEmail = await register('hank-new', 'hank-fresh@example.test', '10.92.0.4');
    expect(usedEmail.status).toBe(200);
    sameAnswer(usedEmail, freshEmail, ['ann-target@example.test', 'hank-fresh@example.test']);
  });

  it('password reset and resending the link: the same answer whether or not an account exists', async () => {
    const ask = async (path: string, field: string, value: string, ip: string) => {
      const b = webClient(system.app, { ip });
      await b.get(path);
      return b.post(path, { [field]: value });
    };
    const resetKnown = await ask('/password/forgot', 'email', 'ann-target@example.test', '10.93.0.1');
    const resetUnknown = await ask('/password/forgot', 'email', 'nobody-here@example.test', '10.93.0.2');
    const resetPending = await ask('/password/forgot', 'email', 'erin@example.test', '10.93.0.3');
    expect(resetKnown.status).toBe(200);
    sameAnswer(resetKnown, resetUnknown, ['', '']);
    sameAnswer(resetKnown, resetPending, ['', '']);
    const resendPending = await ask('/register/resend', 'username', 'erin-pending', '10.93.0.4');
    const resendRegistered = await ask('/register/resend', 'username', 'ann-target', '10.93.0.5');
    const resendUnknown = await ask('/register/resend', 'username', 'ivan-unknown', '10.93.0.6');
    expect(resendPending.status).toBe(200);
    sameAnswer(resendPending, resendRegistered, ['', '']);
    sameAnswer(resendPending, resendUnknown, ['', '']);
    // Only the real account got a reset email; the page told nobody that.
    await system.smtp.waitFor((m) => m.some((e) => e.to.includes('ann-target@') && /reset/i.test(e.subject)));
    expect(system.smtp.received.filter((e) => e.to.includes('nobody-here@'))).toEqual([]);
  });

  it('one address is sent at most 5 link emails an hour, however many clients ask, and every one of them gets the same answer', async () => {
    await registeredUser(system, 'sam-flooded', password('sam'));
    await system.send('RequestRegistration', {
      username: 'tia-pending',
      email: 'tia-pending@example.test',
      password: password('tia'),
    });
    // A web instance of its own, so that closing it waits for the work it does after answering.
    const flood = await system.anotherWeb();
    try {
      for (let i = 0; i < 12; i++) {
        const forgot = webClient(flood, { ip: `10.95.${i}.1` });
        await forgot.get('/password/forgot');
        // Past five requests naming the address, from whatever client, the web refuses: for any address alike.
        expect((await forgot.post('/password/forgot', { email: 'sam-flooded@example.test' })).status).toBe(
          i < 5 ? 200 : 429,
        );
        const resend = webClient(flood, { ip: `10.96.${i}.1` });
        await resend.get('/register/resend');
        expect((await resend.post('/register/resend', { username: 'tia-pending' })).status).toBe(200);
      }
    } finally {
      await flood.close();
    }
    const issued = async (username: string, type: string) =>
      (await system.world.store.load(subjects.user(system.world.ns, testUserId(username)))).history
        .flatMap((h) => h.events)
        .filter((e) => e.type === type);
    // The verification email was the first of the hour: four resets more, and four resends after the registration's.
    expect(await issued('sam-flooded', 'PasswordResetRequested')).toHaveLength(4);
    expect(await issued('tia-pending', 'VerificationReissued')).toHaveLength(4);
    for (const address of ['sam-flooded@', 'tia-pending@']) {
      const mails = await system.smtp.waitFor((m) => m.filter((e) => e.to.includes(address)).length >= 5);
      expect(mails.filter((e) => e.to.includes(address))).toHaveLength(5);
    }
  }, 60_000);

  it('registrations naming one address under many usernames, from many clients, send it at most 5 emails an hour; an unknown address is refused alike', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const b = webClient(system.app, { ip: `10.97.${i}.1` });
      await b.get('/register');
      statuses.push(
        (
          await b.post('/register', {
            username: `victim-spam-${i}`,
            email: 'Victim.Flooded@example.test',
            password: password(`spam${i}`),
          })
        ).status,
      );
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    await system.smtp.waitFor((m) => m.filter((e) => e.to.toLowerCase().includes('victim.flooded@')).length >= 5);
    // A moment for any sixth email to arrive, had one been sent.
    await new Promise((r) => setTimeout(r, 500));
    expect(system.smtp.received.filter((e) => e.to.toLowerCase().includes('victim.flooded@'))).toHaveLength(5);
    // Reset requests for an address nobody has meet the same limit, so the 429 tells nothing about accounts.
    const forgot: number[] = [];
    for (let i = 0; i < 6; i++) {
      const b = webClient(system.app, { ip: `10.98.${i}.1` });
      await b.get('/password/forgot');
      forgot.push((await b.post('/password/forgot', { email: 'nobody-at-all@example.test' })).status);
    }
    expect(forgot).toEqual([200, 200, 200, 200, 200, 429]);
  }, 60_000);

  it('an address with a quote in it comes back escaped on the page, and its email holds no unescaped markup', async () => {
    const b = webClient(system.app, { ip: '10.94.0.1' });
    await b.get('/register');
    const res = await b.post('/register', {
      username: 'oh-hara',
      email: "o'hara+tag@example.test",
      password: password('oh-hara'),
    });
    expect(res.status).toBe(200);
    expect(res.body).toContain('o&#39;hara+tag@example.test');
    expect(res.body).not.toContain("o'hara");
    await system.smtp.waitFor((m) => m.some((e) => e.to.includes('hara')));
    for (const e of system.smtp.received) expectMarkupEscaped(e.html, `the email "${e.subject}"`);
  });

  it('leaves no password, token or secret in the log', async () => {
    for (const e of system.smtp.received) {
      const token = /http:\/\/localhost:7007\/(?:verify|password\/reset)\?token=([^\s"<>]+)/.exec(e.text)?.[1];
      if (token) secrets.add(decodeURIComponent(token));
    }
    expect(secrets.size).toBeGreaterThan(10);
    expectNoSecretsIn(await logText(system.world.store), secrets, 'the log');
  });
});
