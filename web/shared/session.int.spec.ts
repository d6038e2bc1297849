import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestSystem, type TestSystem } from '../../test/system.ts';
import { registeredUser } from '../../test/testUsers.ts';
import { webClient, type WebClient } from '../../test/webClient.ts';
import { openSessionVersions } from './openSessions.ts';
import { testUserId } from '../../test/personalKeys.ts';

const PASSWORD = 'correct horse battery';
const plenty = { max: 10_000, timeWindowMs: 60_000 };

let system: TestSystem;
beforeAll(async () => {
  system = await startTestSystem({
    notifier: false,
    web: {
      publicUrl: 'https://cra.example.com',
      rateLimits: { registerPerClient: plenty, loginPerClient: plenty, loginPerUsername: plenty },
    },
  });
});
afterAll(async () => system?.close());

const registered = (username: string) => registeredUser(system, username, PASSWORD);

async function logIn(username: string): Promise<WebClient> {
  const browser = webClient(system.app);
  await browser.get('/login');
  const login = await browser.post('/login', { username, password: PASSWORD });
  expect(login.status).toBe(303);
  // As a browser does: follow the redirect, to a page whose CSRF token belongs to the new session.
  await browser.get(login.location!);
  return browser;
}

describe('cookies behind https', () => {
  it('marks cookies Secure when PUBLIC_URL is https', async () => {
    const res = await system.app.inject({ url: '/login' });
    const cookies = [res.headers['set-cookie'] ?? []].flat();
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) expect(cookie).toMatch(/; Secure/i);
  });
});

describe('the session check', () => {
  it('takes the session from its cookie only, never from an Authorization header', async () => {
    await registered('cookie-user');
    await registered('header-user');
    const cookieToken = (await logIn('cookie-user')).cookie('cra_session')!;
    const headerToken = (await logIn('header-user')).cookie('cra_session')!;
    const both = await system.app.inject({
      url: '/alerts',
      headers: { cookie: `cra_session=${cookieToken}`, authorization: `Bearer ${headerToken}` },
    });
    expect(both.statusCode).toBe(200);
    expect(both.body).toContain('<span class="muted">cookie-user</span>');
    expect(both.body).not.toContain('header-user');
    for (const headers of [
      { authorization: `Bearer ${headerToken}` },
      { cookie: 'cra_session=not-a-token', authorization: `Bearer ${headerToken}` },
    ]) {
      const res = await system.app.inject({ url: '/alerts', headers });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/login?next=%2Falerts');
    }
  });

  it('refuses a tampered cookie, even after the genuine one was accepted', async () => {
    await registered('tamper');
    const browser = await logIn('tamper');
    expect((await browser.get('/alerts')).status).toBe(200);
    const token = browser.cookie('cra_session')!;
    const [header, payload, signature] = token.split('.');
    const otherUser = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: testUserId('someone') }),
    ).toString('base64url');
    for (const forged of [`${header}.${payload}.${signature!.slice(0, -2)}AA`, `${header}.${otherUser}.${signature}`]) {
      browser.setCookie('cra_session', forged);
      expect((await browser.get('/alerts')).status).toBe(303);
    }
    browser.setCookie('cra_session', token);
    expect((await browser.get('/alerts')).status).toBe(200);
  });

  it('answers many requests at once, of open and closed sessions, each by its own session', async () => {
    await registered('many');
    const open = await logIn('many');
    const closed = await logIn('many');
    const stolen = closed.cookie('cra_session')!;
    expect((await closed.post('/logout')).status).toBe(303);
    const replayed = webClient(system.app);
    replayed.setCookie('cra_session', stolen);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? open : replayed).get('/alerts')),
    );
    answers.forEach((res, i) => expect(res.status).toBe(i % 2 === 0 ? 200 : 303));
  });

  it('looks up a batch of sessions in one query, each counted only for the user who opened it', async () => {
    await registered('batch');
    const browser = await logIn('batch');
    const [, payload] = browser.cookie('cra_session')!.split('.');
    const { sid } = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { sid: string };
    const userId = testUserId('batch');
    const [mine, wrongUser, unknown, malformed, again] = await openSessionVersions(
      system.world.pool,
      system.world.schema,
      [
        { sessionId: sid, userId },
        { sessionId: sid, userId: testUserId('someone') },
        { sessionId: '00000000-0000-4000-8000-000000000000', userId },
        { sessionId: 'not-a-uuid------------------------', userId },
        { sessionId: sid, userId },
      ],
    );
    expect(mine).toEqual({ userSeq: expect.any(Number), runSeq: 0 });
    expect(mine!.userSeq).toBeGreaterThan(0);
    expect([wrongUser, unknown, malformed]).toEqual([undefined, undefined, undefined]);
    expect(again).toEqual(mine);
  });
});
