import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, type TestSystem } from '../../test/system.ts';
import { projectedRun } from '../../test/runs.ts';
import { registeredBrowser } from '../../test/testUsers.ts';
import { webClient, type WebClient } from '../../test/webClient.ts';

const PASSWORD = 'correct horse battery';
const plenty = { max: 10_000, timeWindowMs: 60_000 };

// With the notifier: the triggers and the digest emails on the page are the ones the real notifier recorded.
let system: TestSystem;
beforeAll(async () => {
  system = await startTestSystem({
    web: { rateLimits: { registerPerClient: plenty, loginPerClient: plenty, loginPerUsername: plenty } },
  });
  await projectedRun(system.world, '2026-10-01', { USD: '1.0790', JPY: '163.10', GBP: '0.8712' });
});
afterAll(async () => system?.close());

const commandIdIn = (body: string) => /name="commandId" value="([^"]+)"/.exec(body)?.[1];
const alertIds = (body: string) => [...body.matchAll(/<tr id="alert-([A-Za-z0-9_-]+)">/g)].map((m) => m[1]!);

async function createAlert(browser: WebClient, form: Record<string, string>) {
  const page = await browser.get('/alerts');
  expect((await browser.post('/alerts', { ...form, commandId: commandIdIn(page.body)! })).status).toBe(303);
  return alertIds((await browser.get('/alerts')).body).at(-1)!;
}

/** The history list's lines as text, oldest first. */
const historyOf = (body: string) =>
  [
    ...(/<ol class="history">([\s\S]*?)<\/ol>/.exec(body)?.[1] ?? '').matchAll(/<li class="(\w+)">([\s\S]*?)<\/li>/g),
  ].map((m) => `${m[1]}: ${m[2]!.replace(/<[^>]+>/g, '').trim()}`);

describe('the alert detail page', () => {
  let ann: WebClient;
  let alertId: string;

  beforeAll(async () => {
    ann = (await registeredBrowser(system, 'ann', PASSWORD)).browser;
    alertId = await createAlert(ann, { base: 'EUR', quote: 'USD', threshold: '1.08' });
  });

  it('is linked from the alert’s row on the alerts page', async () => {
    expect((await ann.get('/alerts')).body).toContain(`<a class="pair-link" href="/alerts/${alertId}">`);
  });

  it('shows the pair’s ratio over the runs with labelled axes, the threshold line and each trigger, and the history', async () => {
    await projectedRun(system.world, '2026-10-02', { USD: '1.0825', JPY: '163.9', GBP: '0.8699' });
    // The notifier records the trigger, emails the digest and records that: the page shows both once projected.
    await system.smtp.waitFor((mails) => mails.some((m) => m.to.startsWith('ann@')));
    await expect
      .poll(async () => historyOf((await ann.get(`/alerts/${alertId}`)).body).map((l) => l.split(':')[0]), {
        timeout: 10_000,
      })
      .toEqual(['set', 'triggered', 'emailed']);

    const page = await ann.get(`/alerts/${alertId}`);
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('<h1>EUR/USD at 1.08</h1>');
    // Both drawings (a wide one and a phone's), each with its axes, the threshold and the one trigger.
    const charts = [...page.body.matchAll(/<svg class="detail-chart"[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    expect(charts).toHaveLength(2);
    for (const svg of charts) {
      expect(svg).toContain('>USD per 1 EUR</text>');
      expect(svg).toContain('>Date of the rates (UTC)</text>');
      expect(svg).toContain('<g class="guide threshold"><line');
      expect(svg).toContain('>threshold 1.08</text>');
      expect([...svg.matchAll(/<path class="trigger up"/g)]).toHaveLength(1);
      expect(svg).toContain('aria-label="EUR/USD over 2 runs, from 1.079 on 2026-10-01 to 1.0825 on 2026-10-02;');
    }
    const history = historyOf(page.body);
    expect(history[0]).toMatch(/^set: \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC Set: EUR\/USD at 1\.08$/);
    expect(history[1]).toContain('Triggered (rates of 2026-10-02): 1.079 → 1.0825, crossed upward ↑');
    expect(history[2]).toContain('Emailed to you in the digest (rates of 2026-10-02)');
    expect(page.body).toContain('<span class="ratio">1.0825</span> <span class="above">above</span> the threshold');
  });

  it('keeps a deleted alert’s page, its deletion last in the history', async () => {
    const other = await createAlert(ann, { base: 'EUR', quote: 'GBP', threshold: '0.9' });
    const confirm = await ann.post(`/alerts/${other}/delete`, { confirm: 'yes' });
    expect(confirm.status).toBe(303);
    const page = await ann.get(`/alerts/${other}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<strong class="paused">Deleted</strong>');
    expect(historyOf(page.body).map((l) => l.split(':')[0])).toEqual(['set', 'deleted']);
    expect(historyOf(page.body)[1]).toContain('Deleted: it triggers no more');
  });

  it('is a 404 to anyone but the owner, the same as an unknown or malformed id', async () => {
    const bob = (await registeredBrowser(system, 'bob', PASSWORD)).browser;
    const theirs = await bob.get(`/alerts/${alertId}`);
    const unknown = await bob.get('/alerts/a0123456789abcdef0123456789abcdef');
    const malformed = await bob.get('/alerts/..%2Fsection');
    for (const res of [theirs, unknown, malformed]) {
      expect(res.status).toBe(404);
      expect(res.body).toContain('There is nothing here (or it is not yours).');
      expect(res.body).not.toContain('EUR/USD');
    }
    // The bodies differ only in per-request tokens: nothing tells a stranger the alert exists.
    const bare = (body: string) => body.replace(/value="[^"]+"|x-csrf-token&quot;:&quot;[^&]+&quot;/g, '');
    expect(bare(theirs.body)).toBe(bare(unknown.body));
  });

  it('sends a guest to log in, and comes back there after', async () => {
    const res = await webClient(system.app).get(`/alerts/${alertId}`);
    expect(res.status).toBe(303);
    expect(res.location).toBe(`/login?next=${encodeURIComponent(`/alerts/${alertId}`)}`);
  });

  it('draws the runs that had the pair when the latest one lacks a currency', async () => {
    const cy = (await registeredBrowser(system, 'cyd', PASSWORD)).browser;
    const id = await createAlert(cy, { base: 'GBP', quote: 'JPY', threshold: '190' });
    // A run without JPY is the latest: the page still draws the earlier runs that had it.
    await projectedRun(system.world, '2026-10-03', { USD: '1.08', GBP: '0.87' });
    const page = await cy.get(`/alerts/${id}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('aria-label="GBP/JPY over 2 runs');
    expect(page.body).toContain('(rates of 2026-10-02)');
  });

  it("draws a change alert's band: its percent around the ratio it compares the latest run with", async () => {
    const di = (await registeredBrowser(system, 'dia', PASSWORD)).browser;
    const id = await createAlert(di, { base: 'EUR', quote: 'GBP', kind: 'change', percent: '2', runs: '1' });
    const page = await di.get(`/alerts/${id}`);
    expect(page.status).toBe(200);
    // The run before the latest (2026-10-03) had EUR/GBP at 0.8699: the band is 0.8699 ± 2 %, exactly.
    expect(page.body).toContain('<g class="guide band">');
    expect(page.body).toContain('±2 % of the ratio the run before from 0.852502 to 0.887298');
    expect(page.body).not.toContain('class="guide threshold"');
    expect(page.body).toContain('<dt>Status</dt><dd>Active</dd>');
    expect((await di.post(`/alerts/${id}/pause`, {})).status).toBe(303);
    expect((await di.get(`/alerts/${id}`)).body).toContain('<strong class="paused">Paused</strong>');
  });
});
