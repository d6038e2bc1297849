import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, subjects } from '../../events/index.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import { meta } from '../../test/harness.ts';
import { startTestSystem, type TestSystem } from '../../test/system.ts';
import { projectedRun } from '../../test/runs.ts';
import { registeredBrowser } from '../../test/testUsers.ts';
import type { WebClient } from '../../test/webClient.ts';

// Alert kinds on the alerts page and the edit page (docs/design.md §4b, §6), through app.inject on the real services.

const PASSWORD = 'correct horse battery';
const plenty = { max: 10_000, timeWindowMs: 60_000 };

let system: TestSystem;
let ada: WebClient;
let adaId: string;
beforeAll(async () => {
  // No notifier: the triggers shown are the ones these tests append.
  system = await startTestSystem({
    notifier: false,
    web: { rateLimits: { registerPerClient: plenty, loginPerClient: plenty, loginPerUsername: plenty } },
  });
  await projectedRun(system.world, '2026-11-05', { USD: '1.0790', GBP: '0.8712' });
  await projectedRun(system.world, '2026-11-06', { USD: '1.0825', GBP: '0.8700' });
  ({ browser: ada, userId: adaId } = await registeredBrowser(system, 'ada', PASSWORD));
});
afterAll(async () => system?.close());

const commandIdIn = (body: string) => /name="commandId" value="([^"]+)"/.exec(body)?.[1];
const rowOf = (body: string, alertId: string) => body.split('<tr id="alert-').find((r) => r.startsWith(alertId));

/** Post the create form (JavaScript off): its answer, and the alert it set. */
async function setAlert(browser: WebClient, fields: Record<string, string>) {
  const page = await browser.get('/alerts');
  const res = await browser.post('/alerts', {
    base: 'EUR',
    quote: 'USD',
    ...fields,
    commandId: commandIdIn(page.body)!,
  });
  return { res, alertId: /\/alerts\?set=([A-Za-z0-9_-]+)/.exec(res.location ?? '')?.[1] };
}

describe('setting alerts of every kind', () => {
  it('sets an upward-only, once, expiring threshold alert and a change alert, and shows each rule in its row', async () => {
    const up = await setAlert(ada, { threshold: '1.09', direction: 'up', repeat: 'once', expires: '2027-01-31' });
    expect(up.res.status).toBe(303);
    const change = await setAlert(ada, { kind: 'change', percent: '1.5', runs: '3', threshold: 'ignored' });
    expect(change.res.status).toBe(303);
    const page = await ada.get('/alerts');
    expect(rowOf(page.body, up.alertId!)).toContain(
      '1.09<br><span class="muted">upward only ↑ · once · until 2027-01-31',
    );
    expect(rowOf(page.body, change.alertId!)).toContain('change of 1.5 % over 3 runs');
    // A change alert has no threshold: the ratio shows without a side.
    expect(rowOf(page.body, change.alertId!)).not.toContain('the threshold');
    const { history } = await system.world.store.load(subjects.alert(system.world.ns, change.alertId!));
    expect(history[0]!.events[0]).toEqual(
      event('AlertSet', {
        alertId: change.alertId!,
        userId: adaId,
        base: 'EUR',
        quote: 'USD',
        kind: 'change',
        percent: '1.5',
        runs: 3,
        direction: 'either',
        repeat: 'every',
      }),
    );
  });

  it('says when the rates were last new', async () => {
    const page = await ada.get('/alerts');
    expect(page.body).toContain(
      'Latest rates: 2026-11-06 (frankfurter); the rates were last new <time datetime="2026-11-06T16:05:00.000Z">2026-11-06 16:05 UTC</time>.',
    );
  });

  it.each([
    [{ kind: 'change', percent: '' }, 'percent', 'Enter a percent'],
    [{ kind: 'change', percent: '-1' }, 'percent', 'Use plain digits with an optional decimal point, like 1.5'],
    [{ kind: 'change', percent: '0' }, 'percent', 'The percent must be greater than zero'],
    [{ kind: 'change', percent: '1', runs: '31' }, 'runs', 'Use a whole number of runs from 1 to 30'],
    [{ kind: 'change', percent: '1', runs: '1.5' }, 'runs', 'Use a whole number of runs from 1 to 30'],
    [{ kind: 'ratio', threshold: '1.1' }, 'kind', 'Choose a threshold alert or a change alert'],
    [{ threshold: '1.1', direction: 'sideways' }, 'direction', 'Choose either way, upward or downward'],
    [{ threshold: '1.1', repeat: 'twice' }, 'repeat', 'Choose every time or once'],
    [{ threshold: '1.1', expires: '2027-02-30' }, 'expires', 'That date does not exist'],
    [{ threshold: '1.1', expires: '31/12/2027' }, 'expires', 'Use a date like 2026-12-31'],
    [{ threshold: '1.1', expires: '2026-01-01' }, 'expires', 'That date has passed: choose today or a later date'],
  ])('refuses %j with a message beside %s, writing nothing', async (fields, field, message) => {
    const before = await system.world.store.lastSeq();
    const { res } = await setAlert(ada, fields);
    expect(res.status).toBe(422);
    expect(res.body).toContain(`<span class="field-error" id="f-${field}-error">${message}</span>`);
    expect(await system.world.store.lastSeq()).toBe(before);
  });

  it('says at once when a threshold alert is set on the far side of the ratio for its direction, or at it', async () => {
    // EUR/USD is 1.0825 now.
    const above = await setAlert(ada, { threshold: '1.08', direction: 'up' });
    const page = await ada.get(above.res.location!);
    expect(page.body).toContain(
      'Alert set. EUR/USD is already above 1.08: this alert triggers when it comes back across',
    );
    const near = await setAlert(ada, { threshold: '1.08', direction: 'down' });
    expect((await ada.get(near.res.location!)).body).not.toContain('already');
    // With htmx, in the section the answer swaps in.
    const form = await ada.get('/alerts');
    const res = await ada.post(
      '/alerts',
      { base: 'EUR', quote: 'USD', threshold: '1.0825', commandId: commandIdIn(form.body)! },
      { 'hx-request': 'true' },
    );
    expect(res.status).toBe(200);
    expect(res.body).toContain(
      'EUR/USD is at 1.0825 now: this alert triggers when it moves away and comes back across',
    );
  });
});

describe('editing, pausing, resuming and re-arming an alert', () => {
  it('edits an alert on its own page, refuses a bad field beside it, and shows the new rule', async () => {
    const { alertId } = await setAlert(ada, { threshold: '1.2' });
    const edit = await ada.get(`/alerts/${alertId}/edit`);
    expect(edit.status).toBe(200);
    expect(edit.body).toContain('<h1>Edit alert EUR/USD</h1>');
    expect(edit.body).toMatch(/id="f-threshold" name="threshold"[^>]* value="1.2"/);
    expect(edit.body).toContain('name="_csrf"');
    const bad = await ada.post(`/alerts/${alertId}`, { kind: 'threshold', threshold: 'abc' });
    expect(bad.status).toBe(422);
    expect(bad.body).toContain('id="f-threshold-error">Use plain digits');
    const saved = await ada.post(`/alerts/${alertId}`, { kind: 'change', percent: '2', runs: '1', direction: 'down' });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe('/alerts');
    const row = rowOf((await ada.get('/alerts')).body, alertId!);
    expect(row).toContain('change of 2 % over 1 run<br><span class="muted">downward only ↓');
    // The same rule again stores nothing.
    const before = await system.world.store.lastSeq();
    await ada.get(`/alerts/${alertId}/edit`);
    expect((await ada.post(`/alerts/${alertId}`, { kind: 'change', percent: '2', direction: 'down' })).status).toBe(
      303,
    );
    expect(await system.world.store.lastSeq()).toBe(before);
  });

  it('to anyone else an alert has no edit page, and can be neither edited, paused, resumed nor re-armed', async () => {
    const { alertId } = await setAlert(ada, { threshold: '1.3' });
    const { browser: eve } = await registeredBrowser(system, 'eve', PASSWORD);
    const before = await system.world.store.lastSeq();
    expect((await eve.get(`/alerts/${alertId}/edit`)).status).toBe(404);
    expect((await eve.post(`/alerts/${alertId}`, { threshold: '9' })).status).toBe(404);
    for (const action of ['pause', 'resume', 'rearm'])
      expect((await eve.post(`/alerts/${alertId}/${action}`)).status).toBe(404);
    expect(await system.world.store.lastSeq()).toBe(before);
  });

  it('pauses and resumes an alert; the row says so and offers the other', async () => {
    const { alertId } = await setAlert(ada, { threshold: '1.4' });
    expect(rowOf((await ada.get('/alerts')).body, alertId!)).toContain('>Pause</button>');
    expect((await ada.post(`/alerts/${alertId}/pause`)).status).toBe(303);
    const paused = rowOf((await ada.get('/alerts')).body, alertId!);
    expect(paused).toContain('<strong class="status paused">Paused</strong>');
    expect(paused).toContain('>Resume</button>');
    expect((await ada.post(`/alerts/${alertId}/resume`)).status).toBe(303);
    expect(rowOf((await ada.get('/alerts')).body, alertId!)).not.toContain('Paused');
  });

  it('shows a once alert done after its trigger and offers to re-arm it; re-armed, it is not done', async () => {
    const { alertId } = await setAlert(ada, { threshold: '1.5', repeat: 'once' });
    expect(rowOf((await ada.get('/alerts')).body, alertId!)).not.toContain('Re-arm');
    // A run after it was set, whose trigger the notifier would record (there is none here): it is done.
    const runSeq = await projectedRun(system.world, '2026-11-07', { USD: '1.55', GBP: '0.87' });
    const trigger = event('AlertTriggered', {
      alertId: alertId!,
      userId: adaId,
      runSeq,
      base: 'EUR',
      quote: 'USD',
      kind: 'threshold',
      threshold: '1.5',
      alertDirection: 'either',
      repeat: 'once',
      previousRatio: '1.4',
      currentRatio: '1.6',
      direction: 'up',
    });
    const { seq } = await system.world.store.append(subjects.digest(system.world.ns, runSeq, adaId), [trigger], {
      expectedSeq: 0,
      msgId: `trigger-${alertId}`,
      meta: meta(),
    });
    await waitForProjection(system.world.pool, system.world.schema, seq, 5_000);
    const done = rowOf((await ada.get('/alerts')).body, alertId!);
    expect(done).toContain('<strong class="status">Done</strong>');
    expect(done).toContain('>Re-arm</button>');
    expect((await ada.post(`/alerts/${alertId}/rearm`)).status).toBe(303);
    expect(rowOf((await ada.get('/alerts')).body, alertId!)).not.toContain('Done');
  });
});
