import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventOf } from '../../events/index.ts';
import { startScheduler } from '../../services/scheduler/main.ts';
import { capturingLogger } from '../../services/scheduler/testSupport/localProviderServer.ts';
import {
  expectEachAcknowledgedCommandOnce,
  expectEveryDueEmailSentOnce,
  expectNoSecretsIn,
  expectReadModelsEqualCleanRebuild,
  logText,
  readLog,
} from './support/invariants.ts';
import { openLab, sleep, waitUntil, type Lab } from './support/lab.ts';
import { startRatesServer, type ProviderBehaviour, type RatesServer } from './support/ratesServer.ts';
import { ProjectorProcess } from './support/projector.ts';
import { startServices, type LogLine, type ServiceProcess } from './support/services.ts';
import { CommandLedger, registerUsers, startTraffic, type TestUser } from './support/traffic.ts';

// Fault: the rate provider hanging, answering 500, answering garbage, answering an error body.
let lab: Lab;
let backend: ServiceProcess;
let projector: ProjectorProcess;
let scheduler: ServiceProcess;
let provider: RatesServer;
let ledger: CommandLedger;
let users: TestUser[];
const apiKey = `rates-key-${Math.random().toString(36).slice(2, 12)}`;

const first: ProviderBehaviour = {
  answer: 'publication',
  timestamp: 1_793_635_200,
  quotes: { USDEUR: 0.92, USDJPY: 150, USDGBP: 0.79 },
};
const second: ProviderBehaviour = {
  answer: 'publication',
  timestamp: 1_793_721_600,
  // Two entries no exchange rate can be: dropped, the rest kept.
  quotes: { USDEUR: 0.85, USDJPY: 140, USDGBP: 0.8, USDXYZ: 'abc', USDNEG: -3 },
};

beforeAll(async () => {
  lab = await openLab();
  lab.secrets.add(apiKey);
  provider = await startRatesServer(first);
  projector = new ProjectorProcess(lab);
  [backend] = await Promise.all([
    startServices(['command', 'notifier'], lab.env(), 'command+notifier'),
    projector.start(),
  ]);
  ledger = new CommandLedger(lab.send);
  users = await registerUsers(lab, ledger, 2);
}, 60_000);

/** Alerts on the currencies of the first publication, once the read models have it. */
async function setAlerts() {
  await lab.projectorReaches(await lab.store.lastSeq());
  for (const [i, u] of users.entries()) {
    // EUR/USD goes 1.0869… → 1.1764…, USD/JPY 150 → 140: both cross.
    expect(
      (
        await ledger.send('SetAlert', {
          userId: u.userId,
          alertId: `eurusd${i}`,
          base: 'EUR',
          quote: 'USD',
          threshold: '1.15',
        })
      ).ok,
    ).toBe(true);
    expect(
      (
        await ledger.send('SetAlert', {
          userId: u.userId,
          alertId: `usdjpy${i}`,
          base: 'USD',
          quote: 'JPY',
          threshold: '145',
        })
      ).ok,
    ).toBe(true);
  }
}

afterAll(async () => {
  await Promise.all([backend?.stop(), scheduler?.stop(), projector?.stop()]);
  await provider?.close();
  await lab?.close();
}, 30_000);

const ratesFetched = async () =>
  (await readLog(lab.store)).flatMap((m) =>
    m.events.filter((e): e is EventOf<'RatesFetched'> => e.type === 'RatesFetched').map((e) => e.data),
  );
const failure = (kind: string, reason: RegExp) => (l: LogLine) =>
  l.level === 50 && l.kind === kind && reason.test(String(l.reason));

describe('the rate provider misbehaving under a running scheduler', () => {
  it('answering 500, garbage, an error body or unusable numbers: clear log lines, retries, and no RatesFetched with bad data', async () => {
    scheduler = await startServices(
      ['scheduler'],
      lab.env({
        RATES_PROVIDER: 'exchangerate-host',
        RATES_URL: provider.url,
        RATES_API_KEY: apiKey,
        RATES_SCHEDULE: '* * * * * *',
      }),
      'scheduler',
    );
    await waitUntil(async () => (await ratesFetched()).length === 1, 15_000, 'the first publication to be stored');
    await setAlerts();
    const traffic = startTraffic(lab, ledger, users, { workers: 1, pauseMs: 80, registrations: true });

    provider.behave({ answer: 'status', status: 500, body: 'Internal Server Error' });
    const since500 = provider.requests.length;
    const http500 = await scheduler.waitForLog(
      failure('http-status', /^HTTP 500: Internal Server Error \(after 3 attempts\)$/),
      15_000,
      'the 500 failure',
    );
    expect(http500.msg).toBe(
      'rates fetch from exchangerate-host failed: HTTP 500: Internal Server Error (after 3 attempts)',
    );
    expect(http500.url).toBe(`${provider.url}/live?access_key=***&source=USD`);
    expect(
      scheduler
        .logs()
        .some((l) => l.msg === 'rates request failed, will retry' && l.attempt === 1 && l.retryInMs === 500),
    ).toBe(true);
    expect(provider.requests.length - since500).toBeGreaterThanOrEqual(3);

    provider.behave({
      answer: 'status',
      status: 200,
      body: '<!DOCTYPE html><html><body>Captive portal: log in</body></html>',
      contentType: 'text/html',
    });
    await scheduler.waitForLog(
      failure('bad-response', /^the answer is not JSON: <!DOCTYPE html>/),
      10_000,
      'the garbage failure',
    );
    provider.behave({
      answer: 'status',
      status: 200,
      body: '{"success":true,"timestamp":"yesterday","source":"USD","quotes":[1,2]}',
    });
    await scheduler.waitForLog(
      failure('bad-response', /not in the documented format: timestamp .*quotes/),
      10_000,
      'the wrong-shape failure',
    );

    provider.behave({
      answer: 'status',
      status: 200,
      body: '{"success":false,"error":{"code":101,"type":"invalid_access_key","info":"You have not supplied a valid API Access Key."}}',
    });
    await scheduler.waitForLog(
      failure(
        'provider-error',
        /^the provider refused: error 101 invalid_access_key You have not supplied a valid API Access Key\.$/,
      ),
      10_000,
      'the error-body failure',
    );
    // A garbage answer is not retried (it would come back the same): one request per scheduled run.
    const errorBodyRequests = provider.requests.filter((r) => r.behaviour === 'status').length;
    expect(errorBodyRequests).toBeGreaterThanOrEqual(5);

    // Every number unusable: nothing but the provider's own base would be left.
    provider.behave({
      answer: 'status',
      status: 200,
      body: '{"success":true,"timestamp":1793700000,"source":"USD","quotes":{"USDEUR":-1,"USDJPY":"150","USDGBP":null,"USDCHF":1e999}}',
    });
    await scheduler.waitForLog(
      (l) => l.level === 40 && /^dropped rate USDCHF/.test(String(l.msg)),
      10_000,
      'the dropped rates',
    );
    await sleep(1_500);
    const afterGarbage = await ratesFetched();
    // A publication whose every rate was dropped is refused like any other unusable answer.
    expect(afterGarbage).toHaveLength(1);

    provider.behave(second);
    await waitUntil(
      async () => (await ratesFetched()).some((r) => r.asOf === '2026-11-03T160000Z'),
      10_000,
      'the second publication',
    );
    await scheduler.waitForLog(
      (l) => l.level === 40 && /^dropped rate USDXYZ: not a number$/.test(String(l.msg)),
      5_000,
      'the dropped entry',
    );
    await sleep(2_500); // several more ticks of the same publication
    await scheduler.stop();
    await traffic.stop();

    const stored = (await ratesFetched()).filter((r) => Object.keys(r.rates).length > 1);
    expect(stored.map((r) => ({ asOf: r.asOf, rates: r.rates }))).toEqual([
      { asOf: '2026-11-02T160000Z', rates: { USD: '1', EUR: '0.92', JPY: '150', GBP: '0.79' } },
      { asOf: '2026-11-03T160000Z', rates: { USD: '1', EUR: '0.85', JPY: '140', GBP: '0.8' } },
    ]);
    // Every stored rate is a positive decimal in plain digits.
    for (const run of await ratesFetched())
      for (const rate of Object.values(run.rates)) expect(rate).toMatch(/^(0|[1-9]\d*)(\.\d*[1-9])?$/);

    await lab.settle({ timeoutMs: 30_000 });
    const log = await readLog(lab.store);
    expectEachAcknowledgedCommandOnce(log, ledger.records);
    const { due } = expectEveryDueEmailSentOnce(log, lab.mail.accepted);
    expect(due.filter((d) => d.kind === 'alert-digest')).toHaveLength(users.length);
    await expectReadModelsEqualCleanRebuild(lab);
  }, 90_000);

  it('hanging (no answer, or a body that stalls): each attempt times out, it retries, says so, and stores nothing', async () => {
    for (const behaviour of [{ answer: 'hang' }, { answer: 'stall-body' }] as const) {
      provider.behave(behaviour);
      const { logger, lines } = capturingLogger();
      const before = await lab.store.lastSeq();
      const requestsBefore = provider.requests.length;
      const started = Date.now();
      // The real scheduler service with its patience shrunk from 3 × 10 s to 3 × 300 ms.
      const service = startScheduler({
        config: {
          RATES_PROVIDER: 'exchangerate-host',
          RATES_URL: provider.url,
          RATES_API_KEY: apiKey,
          RATES_SCHEDULE: '0 0 1 1 *',
        },
        store: lab.store,
        logger,
        http: { timeoutMs: 300, attempts: 3, backoffMs: 50 },
        fetchOnStart: true,
      });
      await waitUntil(() => lines.some((l) => l.level === 50), 10_000, 'the timeout to be logged');
      await service.stop();
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(provider.requests.length - requestsBefore).toBe(3);
      expect(lines.filter((l) => l.msg === 'rates request failed, will retry').map((l) => l.reason)).toEqual([
        'no complete answer within 300 ms',
        'no complete answer within 300 ms',
      ]);
      expect(lines.find((l) => l.level === 50)).toMatchObject({
        kind: 'timeout',
        msg: 'rates fetch from exchangerate-host failed: no complete answer within 300 ms (after 3 attempts)',
        url: `${provider.url}/live?access_key=***&source=USD`,
      });
      expect(await lab.store.lastSeq()).toBe(before);
      expectNoSecretsIn(JSON.stringify(lines), [apiKey], `the ${behaviour.answer} log lines`);
    }
  }, 30_000);

  it("leaves no password, token, API key or secret in the log or in the services' output", async () => {
    expectNoSecretsIn(await logText(lab.store), lab.secrets, 'the log');
    for (const p of [backend, scheduler, ...projector.generations])
      expectNoSecretsIn(p.output.join('\n'), lab.secrets, `the output of ${p.label}`);
  });
});
