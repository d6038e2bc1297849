import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Header } from '../../events/index.ts';
import { freePort } from '../../platform/embedded.ts';
import { readCheckpoint } from '../../services/projector/projector.ts';
import { browser, type Browser } from './support/browser.ts';
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

// Fault: the NATS server restarted under command traffic.
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

/** The ids the web derives for an alert form (web/alerts/routes.ts): a double submit is one command. */
const webAlertCommandId = (userId: string, formKey: string) =>
  `set${createHash('sha256').update(`set-alert|${userId}|${formKey}`).digest('hex').slice(0, 32)}`;

describe('the NATS server restarted under command traffic', () => {
  it('clients reconnect, the web answers a clear 503 during the outage, and no acknowledged command is lost', async () => {
    await lab.publishRun('run-1', RUN_RATES[0]);
    const ann = await logIn(users[0]!);
    await waitUntil(
      async () => (await ann.get('/alerts')).body.includes('run-1'),
      10_000,
      'the alerts page to show the first run',
    );
    const traffic = startTraffic(lab, ledger, users, { workers: 2, pauseMs: 30, registrations: true });
    await sleep(1_500);

    await lab.nats.stop();
    const outageStarted = Date.now();
    const formKey = `outage${Date.now()}`;
    const [health, setAlert, readPage] = await Promise.all([
      waitUntil(
        async () => (await fetch(`${site}/healthz`)).status === 503,
        5_000,
        '/healthz to report the outage',
      ).then(() => fetch(`${site}/healthz`)),
      ann.post('/alerts', { commandId: formKey, base: 'EUR', quote: 'USD', threshold: '1.1111' }),
      ann.get('/alerts'),
    ]);
    expect(await health.json()).toMatchObject({ status: 'unavailable', nats: 'down', postgres: 'ok' });
    // A change answers at once with a clear page, not a hang and not a 500 …
    expect(setAlert.status).toBe(503);
    expect(setAlert.ms).toBeLessThan(8_000);
    expect(setAlert.headers.get('content-type')).toMatch(/text\/html/);
    expect(setAlert.body).toMatch(/Temporarily unavailable/);
    expect(setAlert.body).not.toMatch(/Error|at .*\.ts:\d+/);
    // … and what only reads the read models keeps working.
    expect(readPage.status).toBe(200);
    // The day's rates, fetched while the log is unreachable, wait for it instead of being lost until the next run.
    const fetchedDuringOutage = lab.publishRun('run-during-outage', RUN_RATES[1]);
    await sleep(Math.max(0, 6_000 - (Date.now() - outageStarted)));

    await lab.nats.start();
    await waitUntil(async () => (await fetch(`${site}/healthz`)).status === 200, 20_000, 'the web to report NATS back');
    await backend.waitForLog((l) => l.nats === 'reconnect', 20_000, 'the backend to reconnect');
    await projector.current.waitForLog((l) => l.nats === 'reconnect', 20_000, 'the projector to reconnect');
    await web.waitForLog((l) => l.nats === 'reconnect', 20_000, 'the web to reconnect');
    const stored = await fetchedDuringOutage;
    expect(stored.duplicate).toBe(false);
    await sleep(1_500);
    await lab.publishRun('run-2', RUN_RATES[0]);
    await sleep(1_000);
    await traffic.stop();
    const resent = await ledger.resendUnanswered();
    expect(
      ledger.records.some((r) =>
        r.replies.some((reply) => !reply.ok && (reply.error === 'UNAVAILABLE' || reply.error === 'UNCONFIRMED')),
      ),
    ).toBe(true);
    expect(resent).toBeGreaterThan(0);

    // The 503 page said nothing was changed, and nothing was: the request did not go through late, on reconnect.
    const beforeRetry = await readLog(lab.store);
    expect(
      beforeRetry.filter((m) => m.headers[Header.causationId] === webAlertCommandId(users[0]!.userId, formKey)),
    ).toEqual([]);
    // The same user submits the same form again once the service is back: it is stored once.
    const again = await ann.post('/alerts', { commandId: formKey, base: 'EUR', quote: 'USD', threshold: '1.1111' });
    expect(again.status).toBe(303);
    await lab.settle({ timeoutMs: 90_000 });

    const log = await readLog(lab.store);
    expectEachAcknowledgedCommandOnce(log, ledger.records);
    expect(
      log.filter((m) => m.headers[Header.causationId] === webAlertCommandId(users[0]!.userId, formKey)),
    ).toHaveLength(1);
    await expectReadModelsEqualCleanRebuild(lab);
    expectEveryDueEmailSentOnce(log, lab.mail.accepted);
  }, 150_000);

  it('the projector follows the log again within 10 s of NATS coming back', async () => {
    await lab.nats.stop();
    await sleep(2_000);
    await lab.nats.start();
    const back = Date.now();
    const { seq } = await lab.publishRun('run-after-restart', RUN_RATES[0]);
    await waitUntil(
      async () => (await readCheckpoint(lab.pool, lab.schema)) >= seq,
      30_000,
      'the projector to apply the new run',
    );
    expect(Date.now() - back).toBeLessThan(10_000);
  }, 60_000);

  it("leaves no password, token or secret in the log or in the services' output", async () => {
    expectNoSecretsIn(await logText(lab.store), lab.secrets, 'the log');
    for (const p of [backend, web, ...projector.generations])
      expectNoSecretsIn(p.output.join('\n'), lab.secrets, `the output of ${p.label}`);
  });
});
