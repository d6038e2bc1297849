import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitForProjection } from '../../platform/projectionWait.ts';
import { createLogger } from '../../platform/logger.ts';
import { fetchAndAppendRates } from '../../services/scheduler/fetchRates.ts';
import { createProvider } from '../../services/scheduler/providers/createProvider.ts';
import { startTestSystem, type TestSystem } from '../system.ts';
import { webClient } from '../webClient.ts';
import type { ReceivedEmail } from '../smtpSink.ts';
import { expectNoSecretsIn } from '../faults/support/invariants.ts';

let system: TestSystem;
let server: Server;
let publication: { date: string; rates: Record<string, number> };
let providerUrl: string;

/** Every token emailed and every password typed in this file: none may reach what the services log. */
const secrets = new Set<string>(['a long password 9']);
/** The path and query of a link in an email, its token remembered as a secret. */
function followable(text: string, path: string): string {
  const link = new RegExp(`http://localhost:7007(${path}\\?token=[^\\s"<>]+)`).exec(text)?.[1];
  if (!link) throw new Error(`no ${path} link in: ${text}`);
  secrets.add(decodeURIComponent(link.split('token=')[1]!));
  return link;
}

beforeAll(async () => {
  system = await startTestSystem({ captureLog: true });
  // A real HTTP server speaking Frankfurter's documented format; the test changes what it publishes.
  server = createServer((req, res) => {
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
// Verification and unsubscribe links are followed through the web here: its request lines are the likeliest leak.
afterEach(() => {
  const output = system.world.logOutput();
  expect(output).toContain('"msg":"incoming request"');
  expectNoSecretsIn(output, secrets, 'the output of the services');
});

async function account(username: string) {
  const browser = webClient(system.app);
  await browser.get('/register');
  await browser.post('/register', { username, email: `${username}@example.com`, password: 'a long password 9' });
  const mail = (await system.smtp.waitFor((m) => m.some((e) => e.to.startsWith(`${username}@`)))).find((e) =>
    e.to.startsWith(`${username}@`),
  )!;
  await browser.get(followable(mail.text, '/verify'));
  await browser.get('/login');
  await browser.post('/login', { username, password: 'a long password 9' });
  const login = await system.send('LogIn', { username, password: 'a long password 9' });
  return { browser, userId: login.ok ? login.result.userId! : '' };
}

async function setAlert(userId: string, alertId: string, base: string, quote: string, threshold: string) {
  const reply = await system.send('SetAlert', { userId, alertId, base, quote, threshold });
  expect(reply.ok).toBe(true);
}

const provider = () =>
  createProvider(
    { RATES_PROVIDER: 'frankfurter', RATES_URL: providerUrl, RATES_API_KEY: undefined },
    { logger: createLogger({ level: 'silent' }) },
  );

async function run(date: string, rates: Record<string, number>) {
  publication = { date, rates };
  const result = await fetchAndAppendRates({
    provider: provider(),
    store: system.world.store,
    ns: system.world.ns,
    logger: createLogger({ level: 'silent' }),
    now: () => new Date(),
  });
  await waitForProjection(system.world.pool, system.world.schema, result.seq, 5_000);
  return result;
}

const digestsFor = (to: string, since: number) =>
  system.smtp.received.slice(since).filter((m) => m.to.startsWith(to) && !/registration|password/i.test(m.subject));
/** Lines "PAIR threshold direction" of a digest's text, in a stable order. */
const alertsIn = (mail: ReceivedEmail) =>
  [...mail.text.matchAll(/([A-Z]{3}\/[A-Z]{3})\D+?([\d.]+)[^\n]*?(up|down)/g)]
    .map((m) => `${m[1]} ${m[2]} ${m[3]}`)
    .sort();

async function settle() {
  // Let the notifier finish: every run's digests are recorded (EmailSent) or skipped within this time.
  await new Promise((r) => setTimeout(r, 1_500));
}

describe('rates, crossings and digest emails end to end', () => {
  it('sends exactly the expected digests over several runs', async () => {
    const ann = await account('ann');
    const bob = await account('bob');
    let mark = system.smtp.received.length;
    // Alerts are set on the currencies of the latest run; that first run has no earlier one, so nothing crosses.
    await run('2026-11-02', { USD: 1.08, JPY: 160, GBP: 0.86 });
    await setAlert(ann.userId, 'annEURUSD', 'EUR', 'USD', '1.10');
    await setAlert(ann.userId, 'annUSDJPY', 'USD', 'JPY', '150');
    await setAlert(bob.userId, 'bobEURUSD', 'EUR', 'USD', '1.10');
    await setAlert(bob.userId, 'bobEURGBP', 'EUR', 'GBP', '0.85');
    await setAlert(bob.userId, 'bobDeleted', 'EUR', 'USD', '1.05');
    await settle();
    expect(digestsFor('ann@', mark)).toHaveLength(0);
    expect(digestsFor('bob@', mark)).toHaveLength(0);

    mark = system.smtp.received.length;
    const second = await run('2026-11-03', { USD: 1.11, JPY: 168, GBP: 0.84 });
    await system.smtp.waitFor(() => digestsFor('ann@', mark).length === 1 && digestsFor('bob@', mark).length === 1);
    expect(alertsIn(digestsFor('ann@', mark)[0]!)).toEqual(['EUR/USD 1.10 up', 'USD/JPY 150 up']);
    expect(alertsIn(digestsFor('bob@', mark)[0]!)).toEqual(['EUR/GBP 0.85 down', 'EUR/USD 1.10 up']);
    const digest = digestsFor('ann@', mark)[0]!;
    expect(digest.raw).toMatch(/^List-Unsubscribe:\s+<http:\/\/localhost:7007\/unsubscribe\?token=/m);
    expect(digest.raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    expect(digest.text).toContain('http://localhost:7007/alerts');

    mark = system.smtp.received.length;
    const again = await run('2026-11-03', { USD: 1.11, JPY: 168, GBP: 0.84 });
    expect(again).toMatchObject({ duplicate: true, seq: second.seq });
    await settle();
    expect(system.smtp.received.length).toBe(mark);

    expect((await system.send('DeleteAlert', { userId: bob.userId, alertId: 'bobDeleted' })).ok).toBe(true);
    mark = system.smtp.received.length;
    await run('2026-11-04', { USD: 1.04, JPY: 156 });
    await system.smtp.waitFor(() => digestsFor('ann@', mark).length === 1 && digestsFor('bob@', mark).length === 1);
    expect(alertsIn(digestsFor('ann@', mark)[0]!)).toEqual(['EUR/USD 1.10 down', 'USD/JPY 150 down']);
    expect(alertsIn(digestsFor('bob@', mark)[0]!)).toEqual(['EUR/USD 1.10 down']);

    // Bob unsubscribes with the link in his last digest: the page, then its one-click button.
    const unsubscribe = followable(digestsFor('bob@', 0).at(-1)!.text, '/unsubscribe');
    expect((await bob.browser.get(unsubscribe)).status).toBe(200);
    expect((await bob.browser.postRaw(unsubscribe, { 'List-Unsubscribe': 'One-Click' })).body).toMatch(/stopped/i);
    mark = system.smtp.received.length;
    await run('2026-11-05', { USD: 1.12, JPY: 156 });
    await system.smtp.waitFor(() => digestsFor('ann@', mark).length === 1);
    await settle();
    expect(alertsIn(digestsFor('ann@', mark)[0]!)).toEqual(['EUR/USD 1.10 up']);
    expect(digestsFor('bob@', mark)).toHaveLength(0);

    const triggers = await system.world.pool.query(
      `SELECT alert_id, run_seq, direction FROM "${system.world.schema}".alert_triggers ORDER BY run_seq, alert_id`,
    );
    expect(triggers.rows.map((r) => `${r.alert_id} ${r.direction}`)).toEqual([
      'annEURUSD up',
      'annUSDJPY up',
      'bobEURGBP down',
      'bobEURUSD up',
      'annEURUSD down',
      'annUSDJPY down',
      'bobEURUSD down',
      'annEURUSD up',
      'bobEURUSD up',
    ]);
  }, 90_000);
});
