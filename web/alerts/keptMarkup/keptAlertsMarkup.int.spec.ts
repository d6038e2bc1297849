import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, subjects } from '../../../events/index.ts';
import type { Pool } from '../../../platform/postgres.ts';
import { waitForProjection } from '../../../platform/projectionWait.ts';
import { meta } from '../../../test/harness.ts';
import { startTestSystem, type TestSystem } from '../../../test/system.ts';
import { projectedRun } from '../../../test/runs.ts';
import { registeredBrowser } from '../../../test/testUsers.ts';
import { webClient, type WebClient } from '../../../test/webClient.ts';
import { CHART_RUNS } from '../queries.ts';
import { RecentRuns } from '../recentRuns.ts';
import { keptAlertsMarkup } from './keptAlertsMarkup.ts';
import { testUserId } from '../../../test/personalKeys.ts';

// The alerts page is kept as rendered per user (keptAlertsMarkup): these check that whatever changes shows at once,
// through this web instance or another, and that a page view costs one round trip to Postgres when nothing changed.

const PASSWORD = 'correct horse battery';
const plenty = { max: 10_000, timeWindowMs: 60_000 };

let system: TestSystem;
/** A second web instance on the same read models, its Postgres queries counted. */
let other: FastifyInstance;
let otherQueries = 0;

/** The pool as the web sees it, counting the queries it sends. */
function counting(pool: Pool, count: () => void): Pool {
  return new Proxy(pool, {
    get(target, property) {
      if (property === 'query')
        return (...args: Parameters<Pool['query']>) => (
          count(),
          (target.query as (...a: unknown[]) => unknown)(...args)
        );
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

beforeAll(async () => {
  const rateLimits = { registerPerClient: plenty, loginPerClient: plenty, loginPerUsername: plenty };
  system = await startTestSystem({ notifier: false, web: { rateLimits } });
  const { world } = system;
  other = await system.anotherWeb({
    pool: counting(world.pool, () => otherQueries++),
    rateLimits,
  });
  await projectedRun(system.world, '2026-11-01', { USD: '1.0790', JPY: '163.10', GBP: '0.8712' });
});
afterAll(async () => {
  await other?.close();
  await system?.close();
});

const loggedIn = async (username: string) => (await registeredBrowser(system, username, PASSWORD)).browser;

/** The same browser (its cookies) talking to the other web instance. */
function onOtherInstance(browser: WebClient): WebClient {
  const moved = webClient(other);
  for (const [name, value] of browser.jar) moved.setCookie(name, value);
  return moved;
}

const commandIdIn = (body: string) => /name="commandId" value="([^"]+)"/.exec(body)?.[1];
const csrfIn = (body: string) => /name="_csrf" value="([^"]+)"/.exec(body)?.[1];
const alertIds = (body: string) => [...body.matchAll(/<tr id="alert-([A-Za-z0-9_-]+)">/g)].map((m) => m[1]!);
/** The page without what differs on every request, to compare two views of it. */
const withoutPerRequest = (body: string) =>
  body.replace(/name="(_csrf|commandId)" value="[^"]+"/g, '').replace(/x-csrf-token&quot;:&quot;[^&]+&quot;/g, '');

async function setAlert(browser: WebClient, form: { base: string; quote: string; threshold: string }) {
  const page = await browser.get('/alerts');
  expect((await browser.post('/alerts', { ...form, commandId: commandIdIn(page.body)! })).status).toBe(303);
}

describe('the alerts page kept as rendered', () => {
  it('costs one round trip to Postgres when nothing changed, with a fresh CSRF token and form key each time', async () => {
    const ann = onOtherInstance(await loggedIn('ann'));
    await setAlert(ann, { base: 'EUR', quote: 'USD', threshold: '1.08' });
    const first = await ann.get('/alerts');
    const before = otherQueries;
    const second = await ann.get('/alerts');
    expect(otherQueries - before).toBe(1); // the session check, which also reads the page's version
    expect(second.status).toBe(200);
    expect(withoutPerRequest(second.body)).toBe(withoutPerRequest(first.body));
    expect(commandIdIn(second.body)).not.toBe(commandIdIn(first.body));
    expect(csrfIn(second.body)).not.toBe(csrfIn(first.body));
    // Every CSRF field of the kept page carries this request's token, and it is accepted.
    expect(new Set([...second.body.matchAll(/name="_csrf" value="([^"]+)"/g)].map((m) => m[1]))).toEqual(
      new Set([csrfIn(second.body)]),
    );
    expect(second.body).toContain(`x-csrf-token&quot;:&quot;${csrfIn(second.body)}&quot;`);
    expect(
      (await ann.post('/alerts', { base: 'EUR', quote: 'GBP', threshold: '0.9', commandId: commandIdIn(second.body)! }))
        .status,
    ).toBe(303);
    expect(alertIds((await ann.get('/alerts')).body)).toHaveLength(2);
  });

  it('shows an alert set, deleted or emails paused through another instance at once', async () => {
    const here = await loggedIn('boris');
    const there = onOtherInstance(here);
    expect(alertIds((await here.get('/alerts')).body)).toEqual([]);
    await setAlert(there, { base: 'EUR', quote: 'USD', threshold: '1.08' });
    const [alertId] = alertIds((await here.get('/alerts')).body);
    expect(alertId).toBeDefined();

    await there.get('/alerts');
    expect((await there.post('/alerts/emails', { paused: 'yes' })).status).toBe(303);
    expect((await here.get('/alerts')).body).toContain('Alert emails are <strong class="paused">paused</strong>');

    expect((await there.post(`/alerts/${alertId}/delete`, { confirm: 'yes' })).status).toBe(303);
    expect(alertIds((await here.get('/alerts')).body)).toEqual([]);
    expect(alertIds((await here.get('/alerts/section')).body)).toEqual([]);
  });

  it('shows a trigger recorded by the notifier at once, on the page and the section', async () => {
    const cyril = await loggedIn('cyril');
    await setAlert(cyril, { base: 'EUR', quote: 'USD', threshold: '1.08' });
    const page = await cyril.get('/alerts');
    expect(page.body).toContain('Never triggered');
    expect((await cyril.get('/alerts/section')).body).toContain('Never triggered');
    const [alertId] = alertIds(page.body);
    const userId = testUserId('cyril');
    const runSeq = (
      await system.world.pool.query<{ s: number }>(`SELECT max(run_seq) AS s FROM "${system.world.schema}"."rate_runs"`)
    ).rows[0]!.s;
    const { seq } = await system.world.store.append(
      subjects.digest(system.world.ns, runSeq, userId),
      [
        event('AlertTriggered', {
          alertId: alertId!,
          userId,
          runSeq,
          base: 'EUR',
          quote: 'USD',
          threshold: '1.08',
          previousRatio: '1.07',
          currentRatio: '1.079',
          direction: 'up',
        }),
      ],
      { expectedSeq: 'any', msgId: `trigger-${alertId}`, meta: meta() },
    );
    await waitForProjection(system.world.pool, system.world.schema, seq);
    expect((await cyril.get('/alerts')).body).toContain('History (1)');
    expect((await cyril.get('/alerts/section')).body).toContain('History (1)');
  });

  it('shows a new run at once, on the page, the section and the currencies offered', async () => {
    const diana = await loggedIn('diana');
    await setAlert(diana, { base: 'EUR', quote: 'USD', threshold: '1.08' });
    expect((await diana.get('/alerts')).body).not.toContain('<option value="CHF">');
    await diana.get('/alerts/section');
    await projectedRun(system.world, '2026-11-05', { USD: '1.0900', JPY: '164.00', GBP: '0.8600', CHF: '0.9400' });
    const page = await diana.get('/alerts');
    expect(page.body).toContain('as of 2026-11-05');
    expect(page.body).toContain('<span class="ratio">1.09</span> <span class="above">above</span>');
    expect(page.body).toContain('<option value="CHF">');
    expect((await diana.get('/alerts/section')).body).toContain('as of 2026-11-05');
  });

  it("never shows one user another user's page, nor their name", async () => {
    const eva = await loggedIn('eva');
    const fin = await loggedIn('fin');
    await setAlert(eva, { base: 'EUR', quote: 'USD', threshold: '1.11' });
    await setAlert(fin, { base: 'EUR', quote: 'USD', threshold: '1.22' });
    for (let i = 0; i < 2; i++) {
      const evaPage = (await eva.get('/alerts')).body;
      const finPage = (await fin.get('/alerts')).body;
      expect(evaPage).toContain('<td class="num threshold">1.11</td>');
      expect(evaPage).not.toContain('<td class="num threshold">1.22</td>');
      expect(evaPage).toContain('<span class="muted">eva</span>');
      expect(finPage).toContain('<td class="num threshold">1.22</td>');
      expect(finPage).not.toContain('<td class="num threshold">1.11</td>');
      expect(finPage).not.toContain('>eva<');
    }
  });

  it('keeps pages per user, even for two users whose pages are at the same version', async () => {
    const kept = keptAlertsMarkup({ pool: system.world.pool, schema: system.world.schema }, new RecentRuns(CHART_RUNS));
    const pagesVersion = { userSeq: 1, runSeq: 1 };
    const account = (username: string) => ({
      userId: testUserId(username),
      sessionId: 'not-used',
      username,
      pagesVersion,
    });
    const perRequest = { csrf: 'token', commandId: 'key' };
    expect((await kept.page(account('eva'), perRequest)).toString()).toContain('<td class="num threshold">1.11</td>');
    const finPage = (await kept.page(account('fin'), perRequest)).toString();
    expect(finPage).toContain('<td class="num threshold">1.22</td>');
    expect(finPage).not.toContain('<td class="num threshold">1.11</td>');
    expect((await kept.section(account('fin'), perRequest)).toString()).not.toContain(
      '<td class="num threshold">1.11</td>',
    );
  });

  it('refuses a logged-out session even though its page was kept', async () => {
    const gil = await loggedIn('gil');
    expect((await gil.get('/alerts')).status).toBe(200);
    const stolen = gil.cookie('cra_session')!;
    expect((await gil.post('/logout')).status).toBe(303);
    for (const app of [system.app, other]) {
      const replay = webClient(app);
      replay.setCookie('cra_session', stolen);
      const res = await replay.get('/alerts');
      expect(res.status).toBe(303);
      expect(res.location).toBe('/login?next=%2Falerts');
    }
  });
});

describe('the bound on kept pages', () => {
  let tiny: FastifyInstance;
  beforeAll(async () => {
    tiny = await system.anotherWeb({
      renderedPagesMaxBytes: 1,
    });
  });
  afterAll(async () => tiny?.close());

  it('serves whole, current pages when none fits', async () => {
    const hal = await loggedIn('hal');
    await setAlert(hal, { base: 'EUR', quote: 'JPY', threshold: '160' });
    const there = webClient(tiny);
    for (const [name, value] of hal.jar) there.setCookie(name, value);
    const first = await there.get('/alerts');
    const second = await there.get('/alerts');
    expect(first.status).toBe(200);
    expect(withoutPerRequest(second.body)).toBe(withoutPerRequest(first.body));
    expect(alertIds(second.body)).toHaveLength(1);
    expect(second.body).toContain('</html>');
  });
});
