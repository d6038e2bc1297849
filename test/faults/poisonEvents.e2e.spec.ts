import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Header } from '../../events/index.ts';
import { freePort } from '../../platform/embedded.ts';
import { tablesIn } from '../../platform/postgres.ts';
import { readCheckpoint } from '../../services/projector/projector.ts';
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
import { runCra, startServices, type ServiceProcess } from './support/services.ts';
import {
  CommandLedger,
  newUser,
  randomAlert,
  registerUsers,
  RUN_RATES,
  startTraffic,
  type TestUser,
} from './support/traffic.ts';

// Fault: poison written straight into the stream (bad JSON, unknown type, schema break, a future version, …).
let lab: Lab;
let system: ServiceProcess;
let projector: ProjectorProcess;
let site: string;
let projectorSite: string;
let ledger: CommandLedger;
let users: TestUser[];

beforeAll(async () => {
  lab = await openLab();
  const [port, projectorPort] = [await freePort(), await freePort()];
  site = `http://127.0.0.1:${port}`;
  projectorSite = `http://127.0.0.1:${projectorPort}`;
  // Each consumer's metrics are served by a web beside it.
  projector = new ProjectorProcess(lab, ['web', 'projector'], { PORT: String(projectorPort) });
  [system] = await Promise.all([
    startServices(['web', 'command', 'notifier'], lab.env({ PORT: String(port) }), 'web+command+notifier'),
    projector.start(),
  ]);
  ledger = new CommandLedger(lab.send);
  users = await registerUsers(lab, ledger, 3);
  // Alerts are set on the currencies of the latest run that the read models know of: the first run comes first.
  await lab.projectorReaches((await lab.publishRun('run-1', RUN_RATES[0])).seq);
  for (const u of users) expect((await ledger.send('SetAlert', randomAlert(u.userId))).ok).toBe(true);
}, 60_000);

afterAll(async () => {
  await Promise.all([system?.stop(), projector?.stop()]);
  await lab?.close();
}, 30_000);

const encode = (text: string) => new TextEncoder().encode(text);
const v1 = (type: string) => ({
  [Header.type]: type,
  [Header.version]: '1',
  [Header.occurredAt]: new Date().toISOString(),
});

/** Each kind of poison, on a subject each consumer reads, and the reason it must be parked with. */
const poisons = (lab: Lab) => [
  {
    what: 'bad JSON',
    subject: `${lab.ns.events}.alert.poison1`,
    body: encode('{"alertId": "poison1", '),
    headers: v1('AlertSet'),
    reason: /body is not JSON/,
    // An alert's events are nothing to the notifier: it acknowledges them from their headers, unread.
    notifierReads: false,
  },
  {
    what: 'an unknown type',
    subject: `${lab.ns.events}.user.poison2`,
    body: encode('{"userId":"poison2"}'),
    headers: v1('UserTeleported'),
    reason: /unknown event type "UserTeleported"/,
    notifierReads: true,
  },
  {
    what: 'a schema break (a run without rates)',
    subject: `${lab.ns.events}.rates.frankfurter.poison3`,
    body: encode(
      '{"provider":"frankfurter","base":"EUR","asOf":"poison3","fetchedAt":"2026-11-02T16:00:00Z","rates":{"USD":1.08}}',
    ),
    headers: v1('RatesFetched'),
    reason: /RatesFetched v1 breaks its schema: rates\.USD/,
    notifierReads: true,
  },
  {
    what: 'a future version',
    subject: `${lab.ns.events}.user.upoison4`,
    body: encode('{"userId":"upoison4","username":"future","email":"f@example.test","handle":"@future"}'),
    headers: { ...v1('RegistrationRequested'), [Header.version]: '2' },
    reason: /RegistrationRequested v2 is newer than this code reads \(v1\)/,
    notifierReads: true,
  },
  {
    what: 'no envelope at all',
    subject: `${lab.ns.events}.alert.poison5`,
    body: encode('{}'),
    headers: {},
    reason: /missing Cra-Event-Type header/,
    notifierReads: true,
  },
  {
    what: 'bytes that are not UTF-8',
    subject: `${lab.ns.events}.alert.poison6`,
    body: new Uint8Array([0x7b, 0xff, 0xfe, 0x00, 0x7d]),
    headers: v1('AlertSet'),
    reason: /body is not JSON/,
    notifierReads: false,
  },
];

const metric = (text: string, consumer: string) =>
  Number(new RegExp(`^cra_parked_events_total\\{consumer="${consumer}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);

describe('poison written straight into the stream', () => {
  it('is parked with a reason, shown by `cra events` and counted in a metric, and every consumer goes on', async () => {
    const traffic = startTraffic(lab, ledger, users, { workers: 1, pauseMs: 50 });
    await sleep(500);
    const written: { seq: number; what: string; reason: RegExp; notifierReads: boolean }[] = [];
    for (const p of poisons(lab)) {
      const seq = await lab.store.appendRaw(p.subject, p.body, p.headers);
      written.push({ seq, what: p.what, reason: p.reason, notifierReads: p.notifierReads });
      await sleep(100);
    }

    // After the poison: a registration (the notifier must still send its link) and a run (its digests).
    const late = newUser(lab, 'late');
    expect(
      (
        await ledger.send('RequestRegistration', {
          username: late.username,
          email: late.email,
          password: late.password,
        })
      ).ok,
    ).toBe(true);
    const { seq: lastRun } = await lab.publishRun('run-2', RUN_RATES[1]);
    await lab.mail.waitFor(
      (m) => m.some((e) => e.to.includes(late.email)),
      20_000,
      'the verification email sent after the poison',
    );
    await lab.projectorReaches(lastRun);
    // Counted by the projector that parked them (read before anything could restart it).
    expect(metric(await (await fetch(`${projectorSite}/metrics`)).text(), 'projector')).toBe(written.length);
    await sleep(500);
    await traffic.stop();
    await lab.settle({ timeoutMs: 30_000 });
    expect(await readCheckpoint(lab.pool, lab.schema)).toBeGreaterThan(lastRun);

    // Parked, with the reason, in the read model the operators look at.
    const parked = await lab.pool.query<{ seq: number; subject: string; reason: string }>(
      `SELECT seq, subject, reason FROM ${tablesIn(lab.schema)('parked_events')} ORDER BY seq`,
    );
    expect(parked.rows.map((r) => r.seq)).toEqual(written.map((w) => w.seq));
    for (const [i, w] of written.entries()) expect(parked.rows[i]!.reason, w.what).toMatch(w.reason);

    // Visible in `cra events`, one PARKED line each with its reason, among the readable events.
    const events = await runCra(['events'], lab.env(), 30_000);
    expect(events.code, events.output.join('\n')).toBe(0);
    const parkedLines = events.stdout.filter((l) => l.split('\t')[2] === 'PARKED');
    expect(parkedLines.map((l) => Number(l.split('\t')[0]))).toEqual(written.map((w) => w.seq));
    for (const [i, w] of written.entries()) expect(parkedLines[i], w.what).toMatch(w.reason);
    expect(events.stdout.some((l) => l.includes('\tRatesFetched\t'))).toBe(true);

    // Counted by the notifier too, which skipped each it read and went on (an alert's events it does not read at all).
    const notifierRead = written.filter((w) => w.notifierReads).length;
    expect(metric(await (await fetch(`${site}/metrics`)).text(), 'notifier')).toBe(notifierRead);
    expect(
      projector.generations[0]!.logs().filter((l) => l.msg === 'parked an event the projector cannot read'),
    ).toHaveLength(written.length);
    expect(
      system.logs().filter((l) => l.msg === 'notifier skipped an event it cannot read (parked by the projector)'),
    ).toHaveLength(notifierRead);

    const log = await readLog(lab.store);
    expect(log.filter((m) => m.unreadable).map((m) => m.seq)).toEqual(written.map((w) => w.seq));
    expectEachAcknowledgedCommandOnce(log, ledger.records);
    await expectReadModelsEqualCleanRebuild(lab);
    const { due } = expectEveryDueEmailSentOnce(log, lab.mail.accepted);
    expect(due.filter((d) => d.kind === 'alert-digest' && d.messageId.includes(`.${lastRun}.`))).toHaveLength(
      users.length,
    );
    // The web still answers.
    await waitUntil(async () => (await fetch(`${site}/healthz`)).status === 200, 5_000, 'the web to be healthy');
  }, 90_000);

  it("leaves no password, token or secret in the log or in the services' output", async () => {
    expectNoSecretsIn(await logText(lab.store), lab.secrets, 'the log');
    expectNoSecretsIn(`${system.output.join('\n')}\n${projector.output()}`, lab.secrets, 'the output of the services');
  });
});
