import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjects } from '../../events/index.ts';
import { tablesIn } from '../../platform/postgres.ts';
import { linkToken, unsubscribeToken } from '../../platform/tokens.ts';
import { startTestSystem, type TestSystem } from '../../test/system.ts';
import { webClient } from '../../test/webClient.ts';
import { testUserId } from '../../test/personalKeys.ts';

let system: TestSystem;
beforeAll(async () => {
  // No notifier: its EmailSent records would make "nothing appended" checks racy.
  system = await startTestSystem({ notifier: false });
});
afterAll(async () => system?.close());

/** Register and verify through HTTP, with the link recomputed from the nonce in the log (as in accounts.int.spec.ts). */
async function registered(username: string): Promise<string> {
  const browser = webClient(system.app);
  await browser.get('/register');
  expect(
    (await browser.post('/register', { username, email: `${username}@example.com`, password: 'correct horse battery' }))
      .status,
  ).toBe(200);
  const userId = testUserId(username);
  const { history } = await system.world.store.load(subjects.user(system.world.ns, userId));
  const requested = history.flatMap((h) => h.events).find((e) => e.type === 'RegistrationRequested') as {
    data: { tokenNonce: string };
  };
  expect(
    (await browser.get(`/verify?token=${linkToken(system.linkSecret, 'verify', userId, requested.data.tokenNonce)}`))
      .status,
  ).toBe(200);
  return userId;
}

const paused = async (userId: string) =>
  (
    await system.world.pool.query<{ p: boolean }>(
      `SELECT alert_emails_paused AS p FROM ${tablesIn(system.world.schema)('users')} WHERE user_id = $1`,
      [userId],
    )
  ).rows[0]!.p;

/** What a mail client sends for one-click unsubscribe (RFC 8058): no cookie, no CSRF token. */
const oneClick = (url: string, contentType = 'application/x-www-form-urlencoded') =>
  system.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': contentType },
    payload: contentType.startsWith('multipart/')
      ? '--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b--\r\n'
      : 'List-Unsubscribe=One-Click',
  });

describe('unsubscribe links', () => {
  it('shows a confirmation with a button on GET, changing nothing', async () => {
    const userId = await registered('reader');
    const token = unsubscribeToken(system.linkSecret, userId);
    const before = await system.world.store.lastSeq();
    const res = await webClient(system.app).get(`/unsubscribe?token=${encodeURIComponent(token)}`);
    expect(res.status).toBe(200);
    expect(res.body).toContain('Stop alert emails?');
    expect(res.body).toContain(`<form class="stack" method="post" action="/unsubscribe?token=${token}">`);
    expect(res.body).toContain('<button type="submit">Stop alert emails</button>');
    expect(await system.world.store.lastSeq()).toBe(before);
    expect(await paused(userId)).toBe(false);
  });

  it("pauses the user's alert emails on a one-click POST without cookie or CSRF token", async () => {
    const userId = await registered('oneclick');
    const res = await oneClick(`/unsubscribe?token=${encodeURIComponent(unsubscribeToken(system.linkSecret, userId))}`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Alert emails stopped');
    expect(await paused(userId)).toBe(true);
    const { history } = await system.world.store.load(subjects.user(system.world.ns, userId));
    expect(history.flatMap((h) => h.events).at(-1)!.type).toBe('AlertEmailsPaused');

    // A second click (or a client that posts twice) is fine and writes nothing more.
    const before = await system.world.store.lastSeq();
    expect(
      (await oneClick(`/unsubscribe?token=${encodeURIComponent(unsubscribeToken(system.linkSecret, userId))}`))
        .statusCode,
    ).toBe(200);
    expect(await system.world.store.lastSeq()).toBe(before);
  });

  it('accepts the one-click body sent as multipart/form-data too', async () => {
    const userId = await registered('multipart');
    const res = await oneClick(
      `/unsubscribe?token=${encodeURIComponent(unsubscribeToken(system.linkSecret, userId))}`,
      'multipart/form-data; boundary=b',
    );
    expect(res.statusCode).toBe(200);
    expect(await paused(userId)).toBe(true);
  });

  it('refuses a forged, foreign or missing token with a 400 page, writing nothing', async () => {
    const userId = await registered('victim');
    const genuine = unsubscribeToken(system.linkSecret, userId);
    const forged = [
      `${genuine.slice(0, -1)}${genuine.endsWith('A') ? 'B' : 'A'}`,
      unsubscribeToken(Buffer.alloc(32, 1), userId),
      `${userId}.not-a-mac`,
      'garbage',
      '',
    ];
    const before = await system.world.store.lastSeq();
    for (const token of forged) {
      const url = `/unsubscribe?token=${encodeURIComponent(token)}`;
      const shown = await webClient(system.app).get(url);
      expect(shown.status).toBe(400);
      expect(shown.body).toContain('This unsubscribe link is not valid');
      const posted = await oneClick(url);
      expect(posted.statusCode).toBe(400);
      expect(posted.body).not.toMatch(/at .*\.ts:\d+/);
    }
    expect((await oneClick('/unsubscribe')).statusCode).toBe(400);
    expect(await system.world.store.lastSeq()).toBe(before);
    expect(await paused(userId)).toBe(false);
  });
});
