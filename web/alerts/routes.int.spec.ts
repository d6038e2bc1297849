import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { event, subjects } from '../../events/index.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import { tablesIn } from '../../platform/postgres.ts';
import { linkToken } from '../../platform/tokens.ts';
import { meta } from '../../test/harness.ts';
import { startTestSystem, type TestSystem } from '../../test/system.ts';
import { projectedRun } from '../../test/runs.ts';
import { webClient, type WebClient } from '../../test/webClient.ts';
import { MAX_ALERTS_PER_USER } from '../../services/command/alert/alertDecider.ts';
import { testUserId } from '../../test/personalKeys.ts';

const PASSWORD = 'correct horse battery';
const plenty = { max: 10_000, timeWindowMs: 60_000 };

let system: TestSystem;
beforeAll(async () => {
  // No notifier: the triggers shown are the ones these tests append, and "nothing appended" checks are not racy.
  system = await startTestSystem({
    notifier: false,
    web: { rateLimits: { registerPerClient: plenty, loginPerClient: plenty, loginPerUsername: plenty } },
  });
});
afterAll(async () => system?.close());

/** The link the notifier would email, recomputed from the nonce in the log (as in accounts.int.spec.ts). */
async function verifyLink(username: string) {
  const userId = testUserId(username);
  const { history } = await system.world.store.load(subjects.user(system.world.ns, userId));
  const last = history
    .flatMap((h) => h.events)
    .filter((e) => e.type === 'RegistrationRequested' || e.type === 'VerificationReissued')
    .at(-1) as { data: { tokenNonce: string } };
  return linkToken(system.linkSecret, 'verify', userId, last.data.tokenNonce);
}

/** A registered user, logged in, looking at the alerts page (so the next post carries its CSRF token). */
async function loggedIn(username: string): Promise<WebClient> {
  const browser = webClient(system.app);
  await browser.get('/register');
  expect(
    (await browser.post('/register', { username, email: `${username}@example.com`, password: PASSWORD })).status,
  ).toBe(200);
  expect((await browser.get(`/verify?token=${await verifyLink(username)}`)).status).toBe(200);
  expect((await browser.post('/login', { username, password: PASSWORD })).status).toBe(303);
  expect((await browser.get('/alerts')).status).toBe(200);
  return browser;
}

/** One run of the provider (base EUR, which is left out of its rates, as Frankfurter does). */

const lastSeq = () => system.world.store.lastSeq();
const commandIdIn = (body: string) => /name="commandId" value="([^"]+)"/.exec(body)?.[1];
const alertIds = (body: string) => [...body.matchAll(/<tr id="alert-([A-Za-z0-9_-]+)">/g)].map((m) => m[1]!);
/** The table row of one pair, from its opening tag to its end. */
const rowOf = (body: string, pair: string, threshold?: string) =>
  body
    .split('<tr id="alert-')
    .find(
      (row) =>
        row.includes(`<strong class="pair">${pair}</strong>`) &&
        (!threshold || row.includes(`<td class="num threshold">${threshold}</td>`)),
    );

async function createAlert(browser: WebClient, form: { base: string; quote: string; threshold: string }) {
  const page = await browser.get('/alerts');
  const res = await browser.post('/alerts', { ...form, commandId: commandIdIn(page.body)! });
  expect(res.status).toBe(303);
  const after = await browser.get('/alerts');
  return { page: after, alertId: alertIds(after.body).at(-1)! };
}

describe('the alerts page before any rates were fetched', () => {
  it('sends a guest to log in', async () => {
    const res = await webClient(system.app).get('/alerts');
    expect(res.status).toBe(303);
    expect(res.location).toBe('/login?next=%2Falerts');
  });

  it('says no rates have been fetched yet, and refuses an alert with that message beside the field, writing nothing', async () => {
    const browser = await loggedIn('early');
    const page = await browser.get('/alerts');
    expect(page.body).toContain('No rates have been fetched yet');
    const before = await lastSeq();
    const res = await browser.post('/alerts', {
      base: 'EUR',
      quote: 'USD',
      threshold: '1.08',
      commandId: commandIdIn(page.body)!,
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatch(/id="f-base-error">No rates have been fetched yet/);
    expect(await lastSeq()).toBe(before);
  });
});

describe('alerts over HTTP', () => {
  let ada: WebClient;
  beforeAll(async () => {
    await projectedRun(system.world, '2026-11-01', { USD: '1.0790', JPY: '163.10', GBP: '0.8712' });
    await projectedRun(system.world, '2026-11-02', { USD: '1.0825', JPY: '163.42', GBP: '0.8700', BTC: '0.0000151' });
    ada = await loggedIn('ada');
  });

  it('offers the currencies of the latest run, named, with the provider base, and a fresh idempotency key', async () => {
    const page = await ada.get('/alerts');
    for (const option of [
      '<option value="EUR">EUR — Euro</option>',
      '<option value="USD">USD — US Dollar</option>',
      '<option value="BTC">BTC</option>',
      '<option value="JPY">JPY — Japanese Yen</option>',
    ]) {
      expect(page.body).toContain(option);
    }
    expect(commandIdIn(page.body)).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(commandIdIn((await ada.get('/alerts')).body)).not.toBe(commandIdIn(page.body));
    expect(page.body).toContain('name="_csrf"');
  });

  it('creates alerts and shows pair, threshold, the current ratio to 6 significant digits, its side and a chart', async () => {
    await createAlert(ada, { base: 'EUR', quote: 'USD', threshold: '1.08' });
    await createAlert(ada, { base: 'USD', quote: 'JPY', threshold: '151' });
    await createAlert(ada, { base: 'EUR', quote: 'USD', threshold: '1.082500' });
    const { page } = await createAlert(ada, { base: 'GBP', quote: 'EUR', threshold: '1.14943' });

    const eurUsd = rowOf(page.body, 'EUR/USD')!;
    expect(eurUsd).toContain('<td class="num threshold">1.08</td>');
    expect(eurUsd).toContain('<span class="ratio">1.0825</span> <span class="above">above</span> the threshold');
    expect(eurUsd).toContain('as of 2026-11-02');
    expect(rowOf(page.body, 'EUR/USD', '1.082500')).toContain(
      '<span class="ratio">1.0825</span> <span class="at">at</span> the threshold',
    );

    // 163.42 / 1.0825 = 150.96535796…: six significant digits.
    const usdJpy = rowOf(page.body, 'USD/JPY')!;
    expect(usdJpy).toContain('<span class="ratio">150.965</span> <span class="below">below</span> the threshold');

    // EUR is the provider's base (rate 1, no rates row): 1 / 0.87 = 1.149425287…, shown with the digits that keep it below 1.14943.
    const gbpEur = rowOf(page.body, 'GBP/EUR')!;
    expect(gbpEur).toContain('<span class="ratio">1.149425</span> <span class="below">below</span> the threshold');

    // The chart: both runs as a line, the threshold as a line.
    expect(eurUsd).toMatch(
      /<svg class="chart" role="img" aria-label="EUR\/USD over 2 runs, from 1.079 on 2026-11-01 to 1.0825 on 2026-11-02; threshold 1.08"/,
    );
    expect(/<polyline points="([^"]+)"/.exec(eurUsd)![1]!.split(' ')).toHaveLength(2);
    expect(eurUsd).toContain('<line class="threshold"');
    expect(eurUsd).toContain('Never triggered');
  });

  it('creates an alert with htmx: a fresh form and the updated section, no whole page', async () => {
    const page = await ada.get('/alerts');
    const commandId = commandIdIn(page.body)!;
    const res = await ada.post(
      '/alerts',
      { base: 'EUR', quote: 'JPY', threshold: '160', commandId },
      { 'hx-request': 'true' },
    );
    expect(res.status).toBe(200);
    expect(res.body).not.toContain('<html');
    expect(res.body).toMatch(/^<form id="new-alert"/);
    expect(commandIdIn(res.body)).not.toBe(commandId);
    expect(res.body).toMatch(/<section id="alerts"[^>]*hx-swap-oob="true"/);
    expect(rowOf(res.body, 'EUR/JPY')).toContain('<span class="ratio">163.42</span> <span class="above">above</span>');
  });

  it.each([
    [{ threshold: 'abc' }, 'threshold', 'Use plain digits'],
    [{ threshold: '-1' }, 'threshold', 'Use plain digits'],
    [{ threshold: '0' }, 'threshold', 'The threshold must be greater than zero'],
    [{ threshold: '0.000' }, 'threshold', 'The threshold must be greater than zero'],
    [{ threshold: '1e5' }, 'threshold', 'Use plain digits'],
    [{ threshold: '' }, 'threshold', 'Enter a threshold'],
    [{ threshold: '1.234567890123456789' }, 'threshold', 'Use at most 18 significant digits'],
    [{ quote: 'EUR' }, 'quote', 'Choose a currency different from the base currency'],
    [{ base: 'XYZ' }, 'base', 'Choose a currency from the list'],
    [{ quote: 'CHF' }, 'quote', 'Choose a currency from the list'],
    [{ base: '' }, 'base', 'Choose a currency'],
  ])('refuses %j with 422 and the message beside the field, writing nothing', async (change, field, message) => {
    const page = await ada.get('/alerts');
    const before = await lastSeq();
    const res = await ada.post('/alerts', {
      base: 'EUR',
      quote: 'USD',
      threshold: '1.1',
      commandId: commandIdIn(page.body)!,
      ...change,
    });
    expect(res.status).toBe(422);
    expect(res.body).toContain(`id="f-${field}-error">${message}`);
    expect(res.body).toContain(`aria-describedby="f-${field}-error"`);
    expect(await lastSeq()).toBe(before);
  });

  it('refuses a threshold of more than 40 characters beside the field, without echoing it whole', async () => {
    const page = await ada.get('/alerts');
    const before = await lastSeq();
    for (const threshold of [`${'0'.repeat(60_000)}1.11`, `0.${'0'.repeat(60_000)}1`, `${'0'.repeat(40)}1`]) {
      const res = await ada.post('/alerts', {
        base: 'EUR',
        quote: 'USD',
        threshold,
        commandId: commandIdIn(page.body)!,
      });
      expect(res.status).toBe(422);
      expect(res.body).toContain('id="f-threshold-error">Use at most 40 characters, like 1.0825');
      expect(res.body.length).toBeLessThan(page.body.length + 1_000);
    }
    expect(await lastSeq()).toBe(before);
  });

  it('stores a threshold typed with leading zeros in canonical form, and shows it so', async () => {
    const cal = await loggedIn('cal');
    const before = await lastSeq();
    const { page } = await createAlert(cal, { base: 'EUR', quote: 'USD', threshold: ' 0001.50 ' });
    const stored = await system.world.store.load(subjects.alert(system.world.ns, alertIds(page.body).at(-1)!));
    expect(stored.history.flatMap((h) => h.events).map((e) => e.data)).toMatchObject([{ threshold: '1.50' }]);
    expect(stored.lastSeq).toBeGreaterThan(before);
    expect(rowOf(page.body, 'EUR/USD')).toContain('<td class="num threshold">1.50</td>');
  });

  it('answers htmx with the form alone on an error', async () => {
    const before = await lastSeq();
    const res = await ada.post('/alerts', { base: 'EUR', quote: 'USD', threshold: 'abc' }, { 'hx-request': 'true' });
    expect(res.status).toBe(422);
    expect(res.body).toMatch(/^<form id="new-alert"/);
    expect(res.body).toContain('id="f-threshold-error">Use plain digits');
    expect(await lastSeq()).toBe(before);
  });

  it('escapes markup typed into the fields', async () => {
    const before = await lastSeq();
    const res = await ada.post('/alerts', {
      base: '<script>alert(1)</script>',
      quote: '"><b>q</b>',
      threshold: '<b>1</b>',
    });
    expect(res.status).toBe(422);
    expect(res.body).not.toContain('<b>');
    expect(res.body).not.toContain('<script>alert');
    expect(res.body).toContain('value="&lt;b&gt;1&lt;/b&gt;"');
    expect(await lastSeq()).toBe(before);
  });

  it('stores one alert for a double submit of the same form', async () => {
    const bea = await loggedIn('bea');
    const commandId = commandIdIn((await bea.get('/alerts')).body)!;
    const before = await lastSeq();
    const form = { base: 'EUR', quote: 'GBP', threshold: '0.9', commandId };
    expect((await bea.post('/alerts', form)).status).toBe(303);
    expect((await bea.post('/alerts', form)).status).toBe(303);
    expect(await lastSeq()).toBe(before + 1);
    expect(alertIds((await bea.get('/alerts')).body)).toHaveLength(1);
  });

  // Embedded PGlite interleaves the statements of parallel connections, so racing requests need real Postgres.
  it.skipIf(Boolean(inject('embeddedPostgres')))(
    'stores one alert for two submits of the same form racing each other',
    async () => {
      const bob = await loggedIn('bob');
      const commandId = commandIdIn((await bob.get('/alerts')).body)!;
      const before = await lastSeq();
      const both = await Promise.all(
        [1, 2].map(() => bob.post('/alerts', { base: 'EUR', quote: 'GBP', threshold: '0.95', commandId })),
      );
      expect(both.map((r) => r.status)).toEqual([303, 303]);
      expect(await lastSeq()).toBe(before + 1);
      expect(alertIds((await bob.get('/alerts')).body)).toHaveLength(1);
    },
  );

  it('accepts the contract form without a commandId', async () => {
    const cyd = await loggedIn('cyd');
    const res = await cyd.post('/alerts', { base: 'EUR', quote: 'USD', threshold: '1.1' });
    expect(res.status).toBe(303);
    expect(alertIds((await cyd.get('/alerts')).body)).toHaveLength(1);
  });

  it(`refuses more than ${MAX_ALERTS_PER_USER} alerts per user`, async () => {
    const dan = await loggedIn('dan');
    const userId = testUserId('dan');
    const appended = await Promise.all(
      Array.from({ length: MAX_ALERTS_PER_USER }, (_, i) =>
        system.world.store.append(
          subjects.alert(system.world.ns, `dan${i}`),
          [event('AlertSet', { alertId: `dan${i}`, userId, base: 'EUR', quote: 'USD', threshold: `${i + 1}` })],
          { expectedSeq: 0, msgId: `dan${i}`, meta: meta() },
        ),
      ),
    );
    await waitForProjection(system.world.pool, system.world.schema, Math.max(...appended.map((a) => a.seq)));
    const page = await dan.get('/alerts');
    expect(alertIds(page.body)).toHaveLength(MAX_ALERTS_PER_USER);
    const before = await lastSeq();
    const res = await dan.post('/alerts', {
      base: 'EUR',
      quote: 'USD',
      threshold: '1.5',
      commandId: commandIdIn(page.body)!,
    });
    expect(res.status).toBe(422);
    expect(res.body).toContain('the most allowed');
    expect(await lastSeq()).toBe(before);
  });

  it('deletes after a confirmation page without JavaScript', async () => {
    const eve = await loggedIn('eve');
    const { alertId } = await createAlert(eve, { base: 'EUR', quote: 'USD', threshold: '1.08' });
    const before = await lastSeq();
    const confirm = await eve.post(`/alerts/${alertId}/delete`);
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain('Delete alert EUR/USD at 1.08?');
    expect(confirm.body).toContain('<input type="hidden" name="confirm" value="yes">');
    expect(confirm.body).toContain(`action="/alerts/${alertId}/delete"`);
    expect(await lastSeq()).toBe(before);

    const deleted = await eve.post(`/alerts/${alertId}/delete`, { confirm: 'yes' });
    expect(deleted.status).toBe(303);
    expect(deleted.location).toBe('/alerts');
    expect(alertIds((await eve.get('/alerts')).body)).toEqual([]);
    // A repeated click on the confirmation is the same request, already done.
    expect((await eve.post(`/alerts/${alertId}/delete`, { confirm: 'yes' })).status).toBe(303);
    expect(await lastSeq()).toBe(before + 1);
  });

  it('deletes with htmx: DELETE with a confirm prompt answers the updated section', async () => {
    const fay = await loggedIn('fay');
    await createAlert(fay, { base: 'EUR', quote: 'USD', threshold: '1.08' });
    const { page, alertId } = await createAlert(fay, { base: 'USD', quote: 'JPY', threshold: '150' });
    expect(page.body).toContain(
      `hx-delete="/alerts/${alertId}" hx-confirm="Delete alert USD/JPY at 150?" hx-target="#alerts" hx-swap="outerHTML"`,
    );
    const res = await fay.delete(`/alerts/${alertId}`, { 'hx-request': 'true', 'x-csrf-token': fay.csrf() });
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/^<section id="alerts"/);
    expect(res.body).toContain('Alert deleted.');
    expect(alertIds(res.body)).toHaveLength(1);
    expect(res.body).not.toContain('USD/JPY');
  });

  it('refuses a delete without the CSRF token', async () => {
    const gus = await loggedIn('gus');
    const { alertId } = await createAlert(gus, { base: 'EUR', quote: 'USD', threshold: '1.08' });
    const before = await lastSeq();
    expect((await gus.delete(`/alerts/${alertId}`, { 'hx-request': 'true' })).status).toBe(403);
    expect((await gus.postRaw(`/alerts/${alertId}/delete`, { confirm: 'yes' })).status).toBe(403);
    expect(await lastSeq()).toBe(before);
  });

  it("answers 404 for another user's alert and for an unknown one, on both delete routes, deleting nothing", async () => {
    const owner = await loggedIn('owner');
    const { alertId } = await createAlert(owner, { base: 'EUR', quote: 'USD', threshold: '1.08' });
    const intruder = await loggedIn('intruder');
    const before = await lastSeq();
    for (const id of [alertId, 'a0000000000000000000000000000000', 'not.an.id']) {
      const confirm = await intruder.post(`/alerts/${id}/delete`);
      expect(confirm.status).toBe(404);
      expect(confirm.body).not.toContain('EUR/USD');
      expect((await intruder.post(`/alerts/${id}/delete`, { confirm: 'yes' })).status).toBe(404);
      const viaDelete = await intruder.delete(`/alerts/${id}`, {
        'hx-request': 'true',
        'x-csrf-token': intruder.csrf(),
      });
      expect(viaDelete.status).toBe(404);
      expect(viaDelete.body).not.toMatch(/at .*\.ts:\d+/);
    }
    expect(await lastSeq()).toBe(before);
    expect(alertIds((await owner.get('/alerts')).body)).toEqual([alertId]);
  });

  it('serves the section alone, refreshing every minute, with the ratios of a new run', async () => {
    const hal = await loggedIn('hal');
    await createAlert(hal, { base: 'EUR', quote: 'USD', threshold: '1.08' });
    const page = await hal.get('/alerts');
    expect(page.body).toMatch(
      /<section id="alerts" hx-get="\/alerts\/section" hx-trigger="every 60s" hx-swap="outerHTML" hx-status:5xx="swap:none">/,
    );

    await projectedRun(system.world, '2026-11-03', { USD: '1.0775', JPY: '164.01', GBP: '0.8690' });
    const section = await hal.get('/alerts/section', { 'hx-request': 'true' });
    expect(section.status).toBe(200);
    expect(section.body).toMatch(/^<section id="alerts"/);
    expect(section.body).not.toContain('<html');
    const row = rowOf(section.body, 'EUR/USD')!;
    expect(row).toContain('<span class="ratio">1.0775</span> <span class="below">below</span> the threshold');
    expect(row).toContain('as of 2026-11-03');
    expect(row).toContain('over 3 runs');

    const guest = webClient(system.app);
    expect((await guest.get('/alerts/section')).status).toBe(303);
    const htmxGuest = await guest.get('/alerts/section', { 'hx-request': 'true' });
    expect(htmxGuest.status).toBe(401);
    expect(htmxGuest.headers['hx-redirect']).toBe('/login?next=%2Falerts');
  });

  it('shows when an alert last triggered and its trigger history', async () => {
    const ivy = await loggedIn('ivy');
    const { alertId } = await createAlert(ivy, { base: 'EUR', quote: 'USD', threshold: '1.08' });
    const runSeq = await projectedRun(system.world, '2026-11-04', { USD: '1.0812', JPY: '164.2', GBP: '0.87' });
    const userId = testUserId('ivy');
    const { seq } = await system.world.store.append(
      subjects.digest(system.world.ns, runSeq, userId),
      [
        event('AlertTriggered', {
          alertId,
          userId,
          runSeq,
          base: 'EUR',
          quote: 'USD',
          threshold: '1.08',
          previousRatio: '1.0775',
          currentRatio: '1.0812',
          direction: 'up',
        }),
      ],
      { expectedSeq: 'any', msgId: `trigger-${alertId}`, meta: { ...meta(), occurredAt: '2026-11-04T16:06:00.000Z' } },
    );
    await waitForProjection(system.world.pool, system.world.schema, seq);
    const row = rowOf((await ivy.get('/alerts/section')).body, 'EUR/USD')!;
    expect(row).toContain('Last <time datetime="2026-11-04T16:06:00.000Z">2026-11-04 16:06 UTC</time>');
    expect(row).toContain('History (1)');
    expect(row).toContain('(rates of 2026-11-04)');
    expect(row).toContain('<span class="num">1.0775</span> → <span class="num">1.0812</span>, crossed upward ↑');
  });

  it('pauses and resumes alert emails from the alerts page', async () => {
    const jo = await loggedIn('joe');
    const userId = testUserId('joe');
    const paused = async () =>
      (
        await system.world.pool.query(
          `SELECT alert_emails_paused AS p FROM ${tablesIn(system.world.schema)('users')} WHERE user_id = $1`,
          [userId],
        )
      ).rows[0].p;
    expect((await jo.get('/alerts')).body).toContain('Alert emails are <strong>on</strong>');

    const res = await jo.post('/alerts/emails', { paused: 'yes' });
    expect(res.status).toBe(303);
    expect(await paused()).toBe(true);
    const page = await jo.get('/alerts');
    expect(page.body).toContain('Alert emails are <strong class="paused">paused</strong>');
    expect(page.body).toContain('<input type="hidden" name="paused" value="no">');

    const resumed = await jo.post('/alerts/emails', { paused: 'no' }, { 'hx-request': 'true' });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatch(/^<form id="alert-emails"/);
    expect(resumed.body).toContain('Alert emails are <strong>on</strong>');
    expect(await paused()).toBe(false);

    const { history } = await system.world.store.load(subjects.user(system.world.ns, userId));
    expect(history.flatMap((h) => h.events.map((e) => e.type)).filter((t) => t.startsWith('AlertEmails'))).toEqual([
      'AlertEmailsPaused',
      'AlertEmailsResumed',
    ]);

    const before = await lastSeq();
    expect((await jo.post('/alerts/emails', { paused: 'maybe' })).status).toBe(422);
    expect(await lastSeq()).toBe(before);
  });
});
