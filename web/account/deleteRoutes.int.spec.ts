import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjects } from '../../events/index.ts';
import { startTestSystem, type TestSystem } from '../../test/system.ts';
import { noRows, rowsOfUser } from '../../test/readModelRows.ts';
import { registeredBrowser, registeredUser } from '../../test/testUsers.ts';
import { webClient, type WebClient } from '../../test/webClient.ts';
import { testUserId } from '../../test/personalKeys.ts';

let system: TestSystem;
beforeAll(async () => {
  system = await startTestSystem();
});
afterAll(async () => system?.close());

const password = 'a long password of theirs';

/** A registered user, logged in, on the confirmation page (`htmx`: from then on a browser that runs htmx). */
async function onConfirmationPage(username: string, options: { htmx?: boolean } = {}) {
  const registered = await registeredBrowser(system, username, password);
  const userId = registered.userId;
  let browser = registered.browser;
  if (options.htmx) {
    browser = webClient(system.app, { htmx: true });
    for (const [name, value] of registered.browser.jar) browser.setCookie(name, value);
  }
  const page = await browser.get('/account/delete');
  expect(page.status).toBe(200);
  return { browser, userId };
}

const stillLoggedIn = async (browser: WebClient) => (await browser.get('/alerts')).status === 200;

describe('GET /account/delete', () => {
  it('asks a guest to log in first', async () => {
    const guest = webClient(system.app);
    expect((await guest.get('/account/delete')).location).toBe('/login?next=%2Faccount%2Fdelete');
    await guest.get('/login');
    expect((await guest.post('/account/delete', { password })).status).toBe(401);
  });

  it('says what will be erased, that it cannot be undone, and asks for the password', async () => {
    const { browser } = await registeredBrowser(system, 'confirmer', password);
    const page = await browser.get('/account/delete');
    expect(page.body).toContain('<h1>Delete your account</h1>');
    expect(page.body).toContain('<strong>confirmer</strong>');
    for (const what of ['email address', 'password', 'alerts', 'activity history', 'logged out everywhere'])
      expect(page.body).toContain(what);
    expect(page.body).toContain('This cannot be undone.');
    expect(page.body).toMatch(/<input id="f-password" name="password" type="password"/);
    expect(page.body).toContain('name="_csrf"');
    expect(page.body).toMatch(/<form[^>]+method="post" action="\/account\/delete"/);
  });
});

describe('POST /account/delete', () => {
  it('refuses a wrong password beside the field, and keeps the account', async () => {
    const { browser, userId } = await onConfirmationPage('wrongpass');
    const refused = await browser.post('/account/delete', { password: 'not the password at all' });
    expect(refused.status).toBe(422);
    expect(refused.body).toContain('<span class="field-error" id="f-password-error">That is not your password</span>');
    expect(refused.body).toContain('<h1>Delete your account</h1>');
    const empty = await browser.post('/account/delete', { password: '' });
    expect(empty.status).toBe(422);
    expect(empty.body).toContain('Enter your password');
    expect(await stillLoggedIn(browser)).toBe(true);
    expect((await rowsOfUser(system.world.pool, system.world.schema, userId)).users).toBe(1);
  });

  it('refuses a post without its CSRF token, and keeps the account', async () => {
    const { browser, userId } = await onConfirmationPage('nocsrf');
    expect((await browser.postRaw('/account/delete', { password })).status).toBe(403);
    expect((await browser.postRaw('/account/delete', { password, _csrf: 'forged' })).status).toBe(403);
    expect(await stillLoggedIn(browser)).toBe(true);
    expect((await rowsOfUser(system.world.pool, system.world.schema, userId)).users).toBe(1);
  });

  it("has no way to name another user's account: only the session's own is ever deleted", async () => {
    const victimId = await registeredUser(system, 'victim', 'the victim password');
    const { browser, userId } = await onConfirmationPage('attacker');
    // Every way to name the victim: fields, query parameters, a path; and the victim's password with them.
    for (const url of [`/account/delete?userId=${victimId}`, `/account/delete?username=victim`])
      expect((await browser.post(url, { password: 'the victim password', userId: victimId })).status).toBe(422);
    expect((await browser.post(`/account/delete/${victimId}`, { password })).status).toBe(404);
    expect((await browser.post('/account/delete', { password, userId: victimId, username: 'victim' })).location).toBe(
      '/account/deleted',
    );
    const counts = await rowsOfUser(system.world.pool, system.world.schema, userId);
    expect(counts).toEqual(noRows(counts));
    expect((await rowsOfUser(system.world.pool, system.world.schema, victimId)).users).toBe(1);
    const victim = webClient(system.app);
    await victim.get('/login');
    expect((await victim.post('/login', { username: 'victim', password: 'the victim password' })).status).toBe(303);
  });

  it('erases the account on its password: the session ends, nothing of it is left, and one email confirms it', async () => {
    const { browser, userId } = await onConfirmationPage('leaver');
    await browser.get('/alerts');
    const session = browser.cookie('cra_session')!;
    const deleted = await browser.post('/account/delete', { password });
    expect(deleted.status).toBe(303);
    expect(deleted.location).toBe('/account/deleted');
    expect(browser.cookie('cra_session')).toBeUndefined();
    const page = await browser.get('/account/deleted');
    expect(page.body).toContain('<h1>Your account was deleted</h1>');
    expect(page.body).toContain('href="/login"'); // the header of a guest

    // The old cookie is refused, and the username and password log in no more.
    const thief = webClient(system.app);
    thief.setCookie('cra_session', session);
    expect((await thief.get('/alerts')).location).toBe('/login?next=%2Falerts');
    await thief.get('/login');
    const login = await thief.post('/login', { username: 'leaver', password });
    expect(login.status).toBe(401);
    expect(login.body).toContain('Wrong username or password');

    const counts = await rowsOfUser(system.world.pool, system.world.schema, userId);
    expect(counts).toEqual(noRows(counts));
    expect(Object.keys(counts)).toEqual(
      expect.arrayContaining(['users', 'sessions', 'alerts', 'alert_triggers', 'emails_sent', 'activity']),
    );
    const erased = (e: { to: string; subject: string }) =>
      e.to === 'leaver@example.test' && e.subject === 'Your Currency Ratio Alerter account was deleted';
    const confirmation = (await system.smtp.waitFor((m) => m.some(erased))).find(erased);
    expect(confirmation!.text).toContain('Hello leaver,');
    expect(confirmation!.text).toContain('as you asked');
    const { history } = await system.world.store.load(subjects.user(system.world.ns, testUserId('leaver')));
    // The key it names is the one the notifier destroys once the confirmation is sent.
    expect(history.flatMap((h) => h.events).at(-1)).toEqual({
      type: 'AccountErased',
      data: { userId, by: 'owner', keyRevision: expect.any(Number) },
    });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(system.smtp.received.filter(erased)).toHaveLength(1);
  });

  it('works through htmx: the form again beside a wrong password, a redirect once deleted', async () => {
    const { browser } = await onConfirmationPage('htmxleaver', { htmx: true });
    const refused = await browser.post('/account/delete', { password: 'still not the password' });
    expect(refused.status).toBe(422);
    expect(refused.body.startsWith('<form')).toBe(true);
    expect(refused.body).toContain('That is not your password');
    const deleted = await browser.post('/account/delete', { password });
    expect(deleted.status).toBe(204);
    expect(deleted.headers['hx-redirect']).toBe('/account/deleted');
  });
});
