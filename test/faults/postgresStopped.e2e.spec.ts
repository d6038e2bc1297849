import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../platform/embedded.ts';
import { readCheckpoint } from '../../services/projector/projector.ts';
import { browser, type Browser, type Page } from './support/browser.ts';
import {
  expectEachAcknowledgedCommandOnce,
  expectEveryDueEmailSentOnce,
  expectNoSecretsIn,
  expectReadModelsEqualCleanRebuild,
  logText,
  readLog,
} from './support/invariants.ts';
import { openLab, sleep, waitUntil, type Lab } from './support/lab.ts';
import { ProjectorProcess } from './support/projector.ts';
import { startServices, type ServiceProcess } from './support/services.ts';
import { CommandLedger, registerUsers, RUN_RATES, startTraffic, type TestUser } from './support/traffic.ts';

// Fault: PostgreSQL stopped for 10 seconds under traffic.
let lab: Lab;
let backend: ServiceProcess;
let web: ServiceProcess;
let projector: ProjectorProcess;
let site: string;
let ledger: CommandLedger;
let users: TestUser[];

beforeAll(async () => {
  lab = await openLab();
  const port = await freePort();
  site = `http://127.0.0.1:${port}`;
  projector = new ProjectorProcess(lab);
  [backend, web] = await Promise.all([
    startServices(['command', 'notifier'], lab.env(), 'command+notifier'),
    startServices(['web'], lab.env({ PORT: String(port) }), 'web'),
    projector.start(),
  ]);
  ledger = new CommandLedger(lab.send);
  users = await registerUsers(lab, ledger, 3);
}, 60_000);

afterAll(async () => {
  await Promise.all([backend?.stop(), web?.stop(), projector?.stop()]);
  await lab?.close();
}, 30_000);

async function logIn(user: TestUser): Promise<Browser> {
  const b = browser(site);
  await b.get('/login');
  const login = await b.post('/login', { username: user.username, password: user.password });
  expect(login.status, login.body).toBe(303);
  return b;
}

function expectClearOutagePage(page: Page) {
  expect(page.status).toBe(503);
  expect(page.ms).toBeLessThan(7_000);
  expect(page.headers.get('content-type')).toMatch(/text\/html/);
  expect(page.headers.get('retry-after')).toBeTruthy();
  expect(page.body).toMatch(/<h1>Temporarily unavailable<\/h1>/);
  expect(page.body).not.toMatch(/ECONNREFUSED|terminating connection|at .*\.ts:\d+|Error:/);
}

describe('PostgreSQL stopped for 10 seconds', () => {
  it('the web shows a clear error page, the projector retries and catches up, nothing is lost', async () => {
    await lab.publishRun('run-1', RUN_RATES[0]);
    const ann = await logIn(users[0]!);
    await waitUntil(
      async () => (await ann.get('/alerts')).body.includes('run-1'),
      10_000,
      'the alerts page to show the first run',
    );
    const traffic = startTraffic(lab, ledger, users, { workers: 2, pauseMs: 30, registrations: true });
    await sleep(1_500);

    await lab.postgres.stop('fast');
    const stoppedAt = Date.now();
    const ackedBefore = ledger.acked().length;
    // Rates arrive while the read models cannot be written: their digests must still go out, once.
    const { seq: runDuringOutage } = await lab.publishRun('run-2', RUN_RATES[1]);
    const [alertsPage, setAlert, health, guest] = await Promise.all([
      ann.get('/alerts'),
      ann.post('/alerts', { commandId: `pgdown${Date.now()}`, base: 'EUR', quote: 'USD', threshold: '1.2345' }),
      fetch(`${site}/healthz`),
      browser(site).get('/login'),
    ]);
    expectClearOutagePage(alertsPage);
    expectClearOutagePage(setAlert);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ nats: 'ok', postgres: 'down' });
    // A page that needs no database still works.
    expect(guest.status).toBe(200);
    await sleep(10_000 - (Date.now() - stoppedAt));
    // Commands need only the log (SetAlert aside: its rules read the read models): they were acknowledged all along.
    expect(ledger.acked().length).toBeGreaterThan(ackedBefore);
    expect(await readCheckpoint(lab.pool, lab.schema).catch(() => 'unreachable')).toBe('unreachable');

    await lab.postgres.start();
    const restartedAt = Date.now();
    await lab.projectorReaches(runDuringOutage, { timeoutMs: 45_000 });
    const caughtUpInMs = Date.now() - restartedAt;
    // It retried on its own, logging why, while the database was away.
    expect(
      projector.generations[0]!.logs().some(
        (l) => l.service === 'projector' && /^projector failed; retrying in 1000 ms$/.test(String(l.msg)),
      ),
    ).toBe(true);
    expect(caughtUpInMs).toBeLessThan(10_000);
    expect((await ann.get('/alerts')).status).toBe(200);
    expect((await fetch(`${site}/healthz`)).status).toBe(200);

    await lab.publishRun('run-3', RUN_RATES[0]);
    await sleep(1_000);
    await traffic.stop();
    await lab.settle({ timeoutMs: 45_000 });

    const log = await readLog(lab.store);
    expectEachAcknowledgedCommandOnce(log, ledger.records);
    await expectReadModelsEqualCleanRebuild(lab);
    const { due } = expectEveryDueEmailSentOnce(log, lab.mail.accepted);
    expect(due.filter((d) => d.kind === 'alert-digest').length).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it("leaves no password, token or secret in the log or in the services' output", async () => {
    expectNoSecretsIn(await logText(lab.store), lab.secrets, 'the log');
    for (const p of [backend, web, ...projector.generations])
      expectNoSecretsIn(p.output.join('\n'), lab.secrets, `the output of ${p.label}`);
  });
});
