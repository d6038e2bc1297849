import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Header, subjects, type EventOf } from '../../events/index.ts';
import { freePort } from '../../platform/embedded.ts';
import { createLogger } from '../../platform/logger.ts';
import { createMailer } from '../../platform/mailer.ts';
import { handleMessage } from '../../services/notifier/main.ts';
import { browser } from './support/browser.ts';
import {
  expectEachAcknowledgedCommandOnce,
  expectEveryDueEmailSentOnce,
  expectNoSecretsIn,
  expectReadModelsEqualCleanRebuild,
  logText,
  readLog,
} from './support/invariants.ts';
import { MAIL_FROM, openLab, PUBLIC_URL, sleep, waitUntil, type Lab } from './support/lab.ts';
import { startRatesServer, type RatesServer } from './support/ratesServer.ts';
import { ProjectorProcess } from './support/projector.ts';
import { startServices, type ServiceProcess } from './support/services.ts';
import { CommandLedger, newUser, randomAlert, registerUsers, RUN_RATES, type TestUser } from './support/traffic.ts';
import { testUserId } from '../personalKeys.ts';

// Races: each must leave exactly the events and emails that one of the racers alone would have left.
let lab: Lab;
let site: string;
let ledger: CommandLedger;
let users: TestUser[];
let provider: RatesServer | undefined;
const processes = new Map<string, ServiceProcess>();
let projector: ProjectorProcess;
const everyProcess: ServiceProcess[] = [];

const start = async (label: string, services: string[], extra: Record<string, string> = {}) => {
  const started = await startServices(services, lab.env(extra), label);
  processes.set(label, started);
  everyProcess.push(started);
};

beforeAll(async () => {
  lab = await openLab();
  const port = await freePort();
  site = `http://127.0.0.1:${port}`;
  // Two command services and two notifiers share the work, as scaled-out instances do.
  projector = new ProjectorProcess(lab);
  await Promise.all([
    projector.start(),
    start('command-1', ['command']),
    start('command-2', ['command']),
    start('notifier-1', ['notifier']),
    start('notifier-2', ['notifier']),
    // Behind a proxy, as deployed: the racers' X-Forwarded-For addresses are believed, each racer is its own client.
    start('web', ['web'], { PORT: String(port), TRUST_PROXY: 'loopback' }),
  ]);
  ledger = new CommandLedger(lab.send);
  users = await registerUsers(lab, ledger, 6);
  // Alerts are set on the currencies of the latest run that the read models know of: the first run comes first.
  await lab.projectorReaches((await lab.publishRun('run-1', RUN_RATES[0])).seq);
  for (const u of users) expect((await ledger.send('SetAlert', randomAlert(u.userId))).ok).toBe(true);
}, 90_000);

afterAll(async () => {
  await Promise.all([...processes.values(), ...(projector?.generations ?? [])].map((p) => p.stop()));
  await provider?.close();
  await lab?.close();
}, 30_000);

const countEvents = (
  log: Awaited<ReturnType<typeof readLog>>,
  type: string,
  where: (data: Record<string, unknown>) => boolean,
) => log.flatMap((m) => m.events).filter((e) => e.type === type && where(e.data as Record<string, unknown>)).length;

describe('races', () => {
  it('twenty racing registrations of one username: one registration, one email, nineteen clear refusals', async () => {
    const username = `contested-${Date.now().toString(36)}`;
    const racers = Array.from({ length: 20 }, (_, i) => ({
      b: browser(site, { headers: { 'x-forwarded-for': `10.20.0.${i + 1}` } }),
      email: `racer${i}-${username}@example.test`,
      password: `racer ${i} password secret`,
    }));
    for (const r of racers) lab.secrets.add(r.password);
    await Promise.all(racers.map((r) => r.b.get('/register')));
    const answers = await Promise.all(
      racers.map((r) => r.b.post('/register', { username, email: r.email, password: r.password })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, ...Array(19).fill(422)]);
    for (const refused of answers.filter((a) => a.status === 422))
      expect(refused.body).toMatch(/That username is taken/);
    const winner = racers[answers.findIndex((a) => a.status === 200)]!;

    await lab.mail.waitFor((m) => m.some((e) => e.to.includes(winner.email)), 20_000, 'the verification email');
    await sleep(1_500);
    const log = await readLog(lab.store);
    expect(
      log
        .filter((m) => m.subject === subjects.user(lab.ns, testUserId(username)))
        .flatMap((m) => m.events.map((e) => e.type)),
    ).toEqual(['RegistrationRequested']);
    expect(lab.mail.accepted.filter((e) => e.to.includes(username))).toHaveLength(1);
  }, 60_000);

  it('the same command sent twice (a double click), to set and to delete, is stored once', async () => {
    const pairs = await Promise.all(
      users.map(async (u) => {
        const alert = randomAlert(u.userId);
        const setId = `dblset-${alert.alertId}`;
        const sets = await Promise.all([ledger.send('SetAlert', alert, setId), ledger.send('SetAlert', alert, setId)]);
        const delId = `dbldel-${alert.alertId}`;
        const deletes = await Promise.all([
          ledger.send('DeleteAlert', { userId: u.userId, alertId: alert.alertId }, delId),
          ledger.send('DeleteAlert', { userId: u.userId, alertId: alert.alertId }, delId),
        ]);
        return { alert, sets, deletes };
      }),
    );
    const log = await readLog(lab.store);
    for (const { alert, sets, deletes } of pairs) {
      expect(countEvents(log, 'AlertSet', (d) => d.alertId === alert.alertId)).toBe(1);
      expect(countEvents(log, 'AlertDeleted', (d) => d.alertId === alert.alertId)).toBe(1);
      // Each click is answered as success, or as "already done" by the one that lost the race; a delete of an
      // alert deleted already is done, as asked.
      expect(sets.some((r) => r.ok)).toBe(true);
      for (const r of sets) expect(r.ok || r.error === 'ALREADY_EXISTS').toBe(true);
      for (const r of deletes) expect(r).toMatchObject({ ok: true });
    }

    // The same through the web: the form's command id makes both submits one alert, and both clicks a redirect.
    const ann = browser(site);
    await ann.get('/login');
    expect((await ann.post('/login', { username: users[0]!.username, password: users[0]!.password })).status).toBe(303);
    await waitUntil(
      async () => (await ann.get('/alerts')).body.includes('run-1'),
      10_000,
      'the alerts page with currencies',
    );
    const formKey = `doubleclick${Date.now()}`;
    const form = { commandId: formKey, base: 'EUR', quote: 'USD', threshold: '1.0707' };
    const submits = await Promise.all([ann.post('/alerts', form), ann.post('/alerts', form)]);
    expect(submits.map((s) => s.status)).toEqual([303, 303]);
    const digest = createHash('sha256').update(`set-alert|${users[0]!.userId}|${formKey}`).digest('hex').slice(0, 32);
    const alertId = `a${digest}`;
    const deletes = await Promise.all([
      ann.post(`/alerts/${alertId}/delete`, { confirm: 'yes' }),
      ann.post(`/alerts/${alertId}/delete`, { confirm: 'yes' }),
    ]);
    // Both clicks are answered as done: the delete's command id is the same for every click.
    expect(deletes.map((d) => d.status)).toEqual([303, 303]);
    const after = await readLog(lab.store);
    expect(countEvents(after, 'AlertSet', (d) => d.alertId === alertId)).toBe(1);
    expect(countEvents(after, 'AlertDeleted', (d) => d.alertId === alertId)).toBe(1);
    expect(after.filter((m) => m.headers[Header.causationId] === `set${digest}`)).toHaveLength(1);
  }, 60_000);

  it('two scheduler instances fetching the same day store one run per publication', async () => {
    const apiKey = `rates-key-${Date.now()}`;
    lab.secrets.add(apiKey);
    provider = await startRatesServer({
      answer: 'publication',
      timestamp: 1_793_808_000,
      quotes: { USDEUR: 0.98, USDJPY: 150, USDGBP: 0.82 },
    });
    const env = {
      RATES_PROVIDER: 'exchangerate-host',
      RATES_URL: provider.url,
      RATES_API_KEY: apiKey,
      RATES_SCHEDULE: '* * * * * *',
    };
    await Promise.all([start('scheduler-1', ['scheduler'], env), start('scheduler-2', ['scheduler'], env)]);
    await waitUntil(() => provider!.requests.length >= 6, 15_000, 'both schedulers to fetch a few times');
    provider.behave({
      answer: 'publication',
      timestamp: 1_793_894_400,
      quotes: { USDEUR: 0.82, USDJPY: 170, USDGBP: 0.8 },
    });
    const switched = provider.requests.length;
    await waitUntil(
      () => provider!.requests.length >= switched + 6,
      15_000,
      'both schedulers to fetch the next publication a few times',
    );
    const schedulers = [processes.get('scheduler-1')!, processes.get('scheduler-2')!];
    await Promise.all(schedulers.map((s) => s.stop()));

    const log = await readLog(lab.store);
    const runs = log
      .flatMap((m) =>
        m.events.filter((e): e is EventOf<'RatesFetched'> => e.type === 'RatesFetched').map((e) => e.data.asOf),
      )
      .filter((asOf) => asOf.startsWith('2026-11-'));
    expect(runs).toEqual(['2026-11-04T160000Z', '2026-11-05T160000Z']);
    const outcomes = schedulers.flatMap((s) =>
      s.logs().filter((l) => l.service === 'scheduler' && /^rates (appended|already stored)$/.test(String(l.msg))),
    );
    expect(outcomes.filter((l) => l.msg === 'rates appended')).toHaveLength(2);
    expect(outcomes.filter((l) => l.msg === 'rates already stored').length).toBeGreaterThanOrEqual(4);
    // Both instances did fetch: the publication reached the log through a race, not through one idle instance.
    for (const s of schedulers)
      expect(s.logs().some((l) => l.service === 'scheduler' && /^rates /.test(String(l.msg)))).toBe(true);
  }, 60_000);

  it('two notifier instances sharing the runs: one digest per user per run, one link email per registration', async () => {
    const latecomers = [newUser(lab, 'late'), newUser(lab, 'late'), newUser(lab, 'late')];
    const registering = latecomers.map((u) =>
      ledger.send('RequestRegistration', { username: u.username, email: u.email, password: u.password }),
    );
    for (const [i, asOf] of ['run-2', 'run-3', 'run-4'].entries()) {
      await lab.publishRun(asOf, RUN_RATES[(i + 1) % 2]!);
      await sleep(300);
    }
    await Promise.all(registering);
    await lab.settle({ timeoutMs: 45_000 });
    const log = await readLog(lab.store);
    expectEveryDueEmailSentOnce(log, lab.mail.accepted);
    // Both instances did some of the work.
    for (const label of ['notifier-1', 'notifier-2']) {
      expect(
        processes
          .get(label)!
          .logs()
          .some((l) => l.msg === 'run notified' || l.msg === 'link email'),
        label,
      ).toBe(true);
    }
  }, 60_000);

  it('two notifier instances working the same run at once (a redelivery while the first is still at it): its events once', async () => {
    await Promise.all(['notifier-1', 'notifier-2'].map((label) => processes.get(label)!.stop()));
    const { seq } = await lab.publishRun('run-5', RUN_RATES[0]); // run-4 had RUN_RATES[1]: every alert crosses
    await lab.projectorReaches(seq);
    let run;
    for await (const raw of lab.store.read({ fromSeq: seq, untilSeq: seq })) run = raw;
    const instance = () => ({
      store: lab.store,
      personal: lab.personal,
      ns: lab.ns,
      pool: lab.pool,
      schema: lab.schema,
      linkSecret: lab.linkSecret,
      publicUrl: PUBLIC_URL,
      mailFrom: MAIL_FROM,
      mailer: createMailer({ smtpUrl: lab.mail.url, from: MAIL_FROM }),
      logger: createLogger({ level: 'silent' }),
    });
    const before = lab.mail.accepted.length;
    const [first, second] = [instance(), instance()];
    const outcomes = await Promise.all([handleMessage(first, run!), handleMessage(second, run!)]);
    // Whichever met the other's claims on digests it did not send is told to look at the run again later …
    for (const outcome of outcomes)
      expect(outcome === 'ack' || outcome.retryInMs > 0, JSON.stringify(outcome)).toBe(true);
    expect(outcomes).toContain('ack');
    // … and when it does, every digest is recorded as sent, so it sends nothing.
    for (const [i, outcome] of outcomes.entries())
      if (outcome !== 'ack') expect(await handleMessage([first, second][i]!, run!)).toBe('ack');
    const sent = lab.mail.accepted.slice(before).map((e) => e.messageId);
    const log = await readLog(lab.store);
    const digestSubjects = log.filter((m) => m.subject.startsWith(`${lab.ns.events}.digest.${seq}.`));
    // The log holds what one notifier would have written: each user's triggers once, each EmailSent once …
    expect(digestSubjects.filter((m) => m.events.some((e) => e.type === 'AlertTriggered'))).toHaveLength(users.length);
    expect(digestSubjects.filter((m) => m.events.some((e) => e.type === 'EmailSent'))).toHaveLength(users.length);
    // … and each digest went once.
    expect(sent).toHaveLength(users.length);
    expect(new Set(sent).size).toBe(users.length);

    // A notifier started again works the run once more and sends nothing new.
    await start('notifier-1', ['notifier']);
    const mark = lab.mail.accepted.length;
    await lab.settle({ timeoutMs: 30_000 });
    expect(lab.mail.accepted.length).toBe(mark);
  }, 60_000);

  it('leaves the log, the read models and the mailbox as one of each racer would have', async () => {
    const log = await readLog(lab.store);
    expectEachAcknowledgedCommandOnce(log, ledger.records);
    expectEveryDueEmailSentOnce(log, lab.mail.accepted);
    await expectReadModelsEqualCleanRebuild(lab);
  }, 30_000);

  it("leaves no password, token or secret in the log or in the services' output", async () => {
    expectNoSecretsIn(await logText(lab.store), lab.secrets, 'the log');
    for (const p of [...everyProcess, ...projector.generations])
      expectNoSecretsIn(p.output.join('\n'), lab.secrets, `the output of ${p.label}`);
  });
});
