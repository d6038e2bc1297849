import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logger.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import { fetchAndAppendRates } from '../../services/scheduler/fetchRates.ts';
import { createProvider } from '../../services/scheduler/providers/createProvider.ts';
import { startTestSystem, type TestSystem } from '../system.ts';
import { registeredBrowser } from '../testUsers.ts';
import type { WebClient } from '../webClient.ts';

// Alert kinds over several runs (docs/design.md §4b): a real provider server speaking Frankfurter's format, the real
// services, digests through a real SMTP sink. Rates dates are in 2027 so that expiry dates set today are not past.

let system: TestSystem;
let server: Server;
let publication: { date: string; rates: Record<string, number> };
let providerUrl: string;

beforeAll(async () => {
  system = await startTestSystem();
  server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ amount: 1.0, base: 'EUR', date: publication.date, rates: publication.rates }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  providerUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
});
afterAll(async () => {
  server?.close();
  await system?.close();
});

/** The scheduler's fetch of what the provider publishes now, once the read models hold it. */
async function run(date: string, rates: Record<string, number>) {
  publication = { date, rates };
  const result = await fetchAndAppendRates({
    provider: createProvider(
      { RATES_PROVIDER: 'frankfurter', RATES_URL: providerUrl, RATES_API_KEY: undefined },
      { logger: createLogger({ level: 'silent' }) },
    ),
    store: system.world.store,
    ns: system.world.ns,
    logger: createLogger({ level: 'silent' }),
    now: () => new Date(),
  });
  await waitForProjection(system.world.pool, system.world.schema, result.seq, 5_000);
  return result;
}

const commandIdIn = (body: string) => /name="commandId" value="([^"]+)"/.exec(body)?.[1];

/** Set an alert with the form, JavaScript off: its id, from where the answer sends the browser. */
async function setAlert(browser: WebClient, fields: Record<string, string>): Promise<string> {
  const page = await browser.get('/alerts');
  const res = await browser.post('/alerts', { ...fields, commandId: commandIdIn(page.body)! });
  expect(res.status, JSON.stringify(fields)).toBe(303);
  return /\/alerts\?set=([A-Za-z0-9_-]+)/.exec(res.location!)![1]!;
}

/** The alerts a run triggered, as the read model recorded them (AlertTriggered), by alert id. */
async function triggeredBy(runSeq: number): Promise<string[]> {
  // The digest went after its triggers were recorded: once the projector has them, the read model shows them.
  await waitForProjection(system.world.pool, system.world.schema, await system.world.store.lastSeq(), 5_000);
  const { rows } = await system.world.pool.query<{ alert_id: string }>(
    `SELECT alert_id FROM "${system.world.schema}".alert_triggers WHERE run_seq = $1 ORDER BY alert_id`,
    [runSeq],
  );
  return rows.map((r) => r.alert_id);
}

/** The lines of the digest a run sent to `to` ("- EUR/USD crossed 1.1 going up: …"), once it arrived. */
async function digestLines(to: string, since: number): Promise<string[]> {
  const mails = await system.smtp.waitFor((all) => all.slice(since).some((m) => m.to.startsWith(to)));
  const mail = mails.slice(since).find((m) => m.to.startsWith(to))!;
  return mail.text.split('\n').filter((line) => line.startsWith('- '));
}

async function settle() {
  // Let the notifier finish the run: its digests are sent, or there are none.
  await new Promise((r) => setTimeout(r, 1_500));
}

describe('alert kinds over several runs, digests through SMTP', () => {
  it('up-only, down-only, once then re-armed, expired, change over 1 and 3 runs, a weekend repeat, edit and pause', async () => {
    const { browser: kim } = await registeredBrowser(system, 'kim', 'a long password 9');
    // Monday. EUR/USD 1.08, EUR/GBP 0.86, EUR/JPY 160.
    await run('2027-01-04', { USD: 1.08, GBP: 0.86, JPY: 160 });
    const eurUsd = { base: 'EUR', quote: 'USD' };
    const upOnly = await setAlert(kim, { ...eurUsd, threshold: '1.1', direction: 'up' });
    const downOnly = await setAlert(kim, { ...eurUsd, threshold: '1.1', direction: 'down' });
    const expiring = await setAlert(kim, { ...eurUsd, threshold: '1.09', expires: '2027-01-05' });
    const paused = await setAlert(kim, { ...eurUsd, threshold: '1.095' });
    const once = await setAlert(kim, { base: 'EUR', quote: 'GBP', threshold: '0.85', repeat: 'once' });
    const edited = await setAlert(kim, { base: 'EUR', quote: 'GBP', threshold: '0.85', direction: 'up' });
    const change1 = await setAlert(kim, { base: 'EUR', quote: 'JPY', kind: 'change', percent: '2', runs: '1' });
    const change3 = await setAlert(kim, { base: 'EUR', quote: 'JPY', kind: 'change', percent: '4', runs: '3' });
    // Edited (to either way at 0.845) and paused through their own forms.
    await kim.get(`/alerts/${edited}/edit`);
    expect((await kim.post(`/alerts/${edited}`, { kind: 'threshold', threshold: '0.845' })).status).toBe(303);
    expect((await kim.post(`/alerts/${paused}/pause`)).status).toBe(303);

    // Tuesday: EUR/USD up 1.08 → 1.11, EUR/GBP down 0.86 → 0.84, EUR/JPY +2 %.
    let mark = system.smtp.received.length;
    const tuesday = await run('2027-01-05', { USD: 1.11, GBP: 0.84, JPY: 163.2 });
    const tuesdayLines = await digestLines('kim@', mark);
    expect(await triggeredBy(tuesday.seq)).toEqual([upOnly, expiring, once, edited, change1].sort());
    expect(tuesdayLines).toEqual(
      expect.arrayContaining([
        '- EUR/USD crossed 1.1 going up: was 1.08, now 1.11 (your alert: upward only)',
        '- EUR/GBP crossed 0.85 going down: was 0.86, now 0.84 (your alert: once: it is done until you re-arm it)',
        '- EUR/JPY moved 2 % going up over 1 run: was 160, now 163.2 (your alert: a change of at least 2 %)',
      ]),
    );
    expect(tuesdayLines).toHaveLength(5);
    // The once alert is shown done and offers to be re-armed.
    expect((await kim.get('/alerts')).body).toMatch(new RegExp(`alert-${once}">[\\s\\S]*?Done[\\s\\S]*?Re-arm`));

    // Wednesday: EUR/USD back down to 1.07, EUR/GBP back up to 0.86, EUR/JPY +0.5 %.
    mark = system.smtp.received.length;
    const wednesday = await run('2027-01-06', { USD: 1.07, GBP: 0.86, JPY: 164 });
    await digestLines('kim@', mark);
    // Down-only now; the expired one not (its date was Tuesday); the once alert is done; the edit's new rule triggers.
    expect(await triggeredBy(wednesday.seq)).toEqual([downOnly, edited].sort());
    const page = await kim.get('/alerts');
    expect(page.body).toMatch(new RegExp(`alert-${expiring}">[\\s\\S]*?<strong class="status">Expired</strong>`));
    const lastNew = /the rates were last new <time datetime="([^"]+)"/.exec(page.body)?.[1];
    expect(lastNew).toBeDefined();

    // Saturday: the provider answers with Wednesday's rates date again (whatever the figures): no new run.
    mark = system.smtp.received.length;
    const saturday = await run('2027-01-06', { USD: 1.2, GBP: 0.7, JPY: 200 });
    expect(saturday).toMatchObject({ duplicate: true, seq: wednesday.seq });
    await settle();
    expect(system.smtp.received.length).toBe(mark);
    expect((await kim.get('/alerts')).body).toContain(`the rates were last new <time datetime="${lastNew}"`);

    // Re-armed and resumed through their forms.
    expect((await kim.post(`/alerts/${once}/rearm`)).status).toBe(303);
    expect((await kim.post(`/alerts/${paused}/resume`)).status).toBe(303);

    // Thursday: EUR/USD up to 1.12, EUR/GBP down to 0.84, EUR/JPY 166.4: +1.5 % on one run, +4 % on three.
    mark = system.smtp.received.length;
    const thursday = await run('2027-01-07', { USD: 1.12, GBP: 0.84, JPY: 166.4 });
    const thursdayLines = await digestLines('kim@', mark);
    expect(await triggeredBy(thursday.seq)).toEqual([upOnly, paused, once, edited, change3].sort());
    expect(thursdayLines).toContain(
      '- EUR/JPY moved 4 % going up over 3 runs: was 160, now 166.4 (your alert: a change of at least 4 %)',
    );
    // One digest per run, never more.
    await settle();
    expect(system.smtp.received.slice(mark).filter((m) => m.to.startsWith('kim@'))).toHaveLength(1);
  }, 120_000);
});
